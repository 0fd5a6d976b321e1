import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import type { GatewaySocket } from '../protocol/socket-types.js';

/** A listener Socket.IO calls with `this` bound to the socket (shared by all sockets). */
export type SocketListener = (this: GatewaySocket, ...args: unknown[]) => void;

/** What one socket event does: the socket and the event's payload in, the ack's reply out (or a refusal thrown). */
export type SocketEventHandler = (socket: GatewaySocket, payload: unknown) => Promise<unknown>;

export interface AnswerEvents {
  /** Without an ack, a failure is emitted as this event (so it is never silent); none: dropped. */
  readonly errorEvent?: string;
  /** Without an ack, a success is emitted as this event; none: it needs no answer. */
  readonly replyEvent?: string;
}

/**
 * Turns a socket-event handler into a listener that answers through the ack when the client gave one —
 * the handler's reply, or `{ error: { code, message, details? } }` for a refusal (anything that is not a
 * catalog error is logged on `logger` and answered `INTERNAL`). Without an ack, `events` say what is emitted.
 */
export function acknowledgedListener(logger: Logger, run: SocketEventHandler, events: AnswerEvents = {}): SocketListener {
  return function (this: GatewaySocket, payload?: unknown, ack?: unknown) {
    const socket = this;
    const answer = typeof ack === 'function' ? (ack as (reply: unknown) => void) : undefined;
    run(socket, typeof payload === 'function' ? undefined : payload).then(
      (reply) => {
        if (answer !== undefined) answer(reply);
        else if (events.replyEvent !== undefined) socket.emit(events.replyEvent, reply);
      },
      (error: unknown) => {
        const refusal = isGatewayError(error) ? error : new GatewayError('INTERNAL');
        if (!isGatewayError(error)) logger.error({ err: error, socketId: socket.id }, 'client event failed');
        if (answer !== undefined) answer({ error: refusal.toBody() });
        else if (events.errorEvent !== undefined) socket.emit(events.errorEvent, { error: refusal.toBody() });
      },
    );
  };
}
