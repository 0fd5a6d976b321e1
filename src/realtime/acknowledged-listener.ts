import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import type { Outcomes } from '../runtime/metric-series.js';

/**
 * The fields a replaced system put in its failure acks besides `status: false` — its `message` wording and
 * what it echoed (`room`, `rooms`) — for the socket, the payload and the refusal at hand.
 */
export type SeedRefusalFields = (socket: GatewaySocket, payload: unknown, refusal: GatewayError) => { readonly message: string } & Readonly<Record<string, unknown>>;

/**
 * A listener the socket-event dispatcher calls with `this` bound to the socket (shared by all sockets),
 * with where the event's outcome is counted (`undefined` with metrics off) and the client's payload and ack.
 * `seedRefusal` is set on the events answered in a replaced system's shape, so that refusals decided
 * before the listener runs (the dispatcher's rate limit and permission checks) are answered in that shape too.
 */
export type SocketListener = ((this: GatewaySocket, outcomes: Outcomes | undefined, payload?: unknown, ack?: unknown) => void)
  & { readonly seedRefusal?: SeedRefusalFields };

/** What one socket event does: the socket and the event's payload in, the ack's reply out (or a refusal thrown). */
export type SocketEventHandler = (socket: GatewaySocket, payload: unknown) => Promise<unknown>;

export interface AnswerEvents {
  /** Without an ack, a failure is emitted as this event (so it is never silent); none: dropped. */
  readonly errorEvent?: string;
  /** Without an ack, a success is emitted as this event; none: it needs no answer. */
  readonly replyEvent?: string;
  /**
   * For an event a replaced system acked as `{ status: false, message, … }` on failure (seed 004's room
   * events): its refusals also carry `status: false` and these fields beside `error`.
   */
  readonly seedRefusal?: SeedRefusalFields;
}

/**
 * The answer to a refused socket event, the one shape of every refusal: `{ error: { code, message, details? } }`,
 * and for an event with `seedRefusal` also `status: false` and the seed's fields (its `message` wording
 * beside the catalog's `error.message`).
 */
export function refusalAnswer(socket: GatewaySocket, payload: unknown, refusal: GatewayError, seedRefusal?: SeedRefusalFields): Record<string, unknown> {
  const error = refusal.toBody();
  return seedRefusal === undefined ? { error } : { status: false, ...seedRefusal(socket, payload, refusal), error };
}

/**
 * Turns a socket-event handler into a listener that answers through the ack when the client gave one —
 * the handler's reply, or the {@link refusalAnswer} for a refusal (anything that is not a catalog error is
 * logged on `logger` and answered `INTERNAL`) — and counts the outcome. Without an ack, `events` say what
 * is emitted.
 */
export function acknowledgedListener(logger: Logger, run: SocketEventHandler, events: AnswerEvents = {}): SocketListener {
  const listener = function (this: GatewaySocket, outcomes: Outcomes | undefined, payload?: unknown, ack?: unknown) {
    const socket = this;
    // An event sent without a payload (`emitWithAck('rooms')`) has its ack where the payload would be.
    const callback = typeof ack === 'function' ? ack : typeof payload === 'function' ? payload : undefined;
    const answer = callback as ((reply: unknown) => void) | undefined;
    const input = typeof payload === 'function' ? undefined : payload;
    run(socket, input).then(
      (reply) => {
        outcomes?.ok();
        if (answer !== undefined) answer(reply);
        else if (events.replyEvent !== undefined) socket.emit(events.replyEvent, reply);
      },
      (error: unknown) => {
        const refusal = isGatewayError(error) ? error : new GatewayError('INTERNAL');
        outcomes?.refused(refusal.code);
        if (!isGatewayError(error)) logger.error({ err: error, socketId: socket.id }, 'client event failed');
        const body = refusalAnswer(socket, input, refusal, events.seedRefusal);
        if (answer !== undefined) answer(body);
        else if (events.errorEvent !== undefined) socket.emit(events.errorEvent, body);
      },
    );
  };
  return events.seedRefusal === undefined ? listener : Object.assign(listener, { seedRefusal: events.seedRefusal });
}
