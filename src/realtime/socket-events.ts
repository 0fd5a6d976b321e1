import type { Logger } from 'pino';
import { hasPermission } from '../auth/permissions.js';
import type { EventPermission } from '../config/config.js';
import { GatewayError } from '../protocol/errors.js';
import { RoomPattern } from '../protocol/room-pattern.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import { acknowledgedListener, type SocketListener } from './acknowledged-listener.js';
import type { ClientEventRelay } from './client-event-relay.js';
import type { ClientRateLimiter } from './client-rate-limit.js';

/** An acknowledgement callback as Socket.IO passes it: the last argument, when the client asked for one. */
type Ack = (reply: unknown) => void;

export interface SocketEventDeps {
  /** The listener of each event the gateway serves: auth, history, room and chat events. */
  readonly listeners: Readonly<Record<string, SocketListener>>;
  /** CLIENT_EVENTS: events relayed to a room, for names no listener serves. */
  readonly clientEvents: ClientEventRelay;
  readonly limiter: ClientRateLimiter;
  /** EVENT_PERMISSIONS: events (`*` patterns) a socket may only send holding the permission. */
  readonly eventPermissions: readonly EventPermission[];
  readonly logger: Logger;
}

/**
 * The dispatcher of every event a socket sends: the gateway's own events (`listeners`) and, for names
 * matching CLIENT_EVENTS, the client events relayed to a room. One listener (`onAny`, shared by every
 * socket: Socket.IO calls it with `this` bound to the socket) rate-limits every event, checks
 * EVENT_PERMISSIONS, then runs its handler; an unknown event with an ack is answered `EVENT_UNKNOWN`
 * (never a silent success), without an ack it is ignored.
 */
export function createSocketEventListeners(deps: SocketEventDeps): (socket: GatewaySocket) => void {
  const { listeners, clientEvents, limiter, logger } = deps;
  const eventPermissions = deps.eventPermissions.map(({ event, permission }) => ({ event: new RoomPattern(event), permission }));
  function dispatch(this: GatewaySocket, event: string, ...args: unknown[]): void {
    const ack = typeof args.at(-1) === 'function' ? (args.at(-1) as Ack) : undefined;
    const verdict = limiter.take(this);
    if (verdict === 'flooding') {
      logger.warn({ socketId: this.id, userId: this.data.userId }, 'client flooding; disconnected');
      this.disconnect(true);
      return;
    }
    if (verdict === 'refused') {
      ack?.({ error: new GatewayError('RATE_LIMITED', 'Too many events; slow down (CLIENT_EVENTS_PER_SECOND)').toBody() });
      return;
    }
    const needed = eventPermissions.find((rule) => rule.event.matches(event));
    if (needed !== undefined && !hasPermission(this.data, needed.permission)) {
      ack?.({ error: new GatewayError('FORBIDDEN', `"${event}" needs the "${needed.permission}" permission`, { details: { permission: needed.permission } }).toBody() });
      return;
    }
    const listener = Object.hasOwn(listeners, event) ? listeners[event] : undefined;
    if (listener !== undefined) listener.apply(this, args);
    else if (clientEvents.accepts(event)) acknowledgedListener(logger, async (socket, payload) => clientEvents.relay(socket, event, payload)).apply(this, args);
    else ack?.({ error: new GatewayError('EVENT_UNKNOWN', `The server does not handle "${event}"`).toBody() });
  }
  return (socket) => listenToAny(socket, dispatch);
}

/**
 * `socket.onAny(listener)` with the list allocated at its size: onAny pushes onto a new empty array, which
 * V8 grows to 17 slots (about 130 bytes per connection for this one listener). socket.io 4.8 keeps the list
 * in `_anyListeners`, where onAny, offAny and its dispatch find it; a Socket.IO that keeps it elsewhere gets
 * `onAny` (checked through the public `listenersAny()`).
 */
function listenToAny(socket: GatewaySocket, listener: (this: GatewaySocket, event: string, ...args: unknown[]) => void): void {
  const listeners = [listener];
  (socket as unknown as { _anyListeners?: unknown[] })._anyListeners = listeners;
  if (socket.listenersAny() !== listeners) socket.onAny(listener);
}
