import type { Logger } from 'pino';
import { hasPermission } from '../auth/permissions.js';
import type { EventPermission } from '../config/config.js';
import { GatewayError } from '../protocol/errors.js';
import { RoomPattern } from '../protocol/room-pattern.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import { acknowledgedListener, refusalAnswer, type SocketListener } from './acknowledged-listener.js';
import type { ClientEventRelay } from './client-event-relay.js';
import type { ClientRateLimiter } from './client-rate-limit.js';
import type { LogSampler } from '../runtime/log-sampler.js';
import type { ConnectionAddresses } from './connection-addresses.js';
import type { Metrics } from '../runtime/metrics.js';
import type { Tally } from '../runtime/metric-series.js';

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
  /** Counts each event's outcome (by kind) and the events refused by the rate limit; `undefined` = metrics off. */
  readonly metrics: Pick<Metrics, 'clientEventOutcomes' | 'rateLimit'> | undefined;
  readonly logger: Logger;
  /** Writes the flooding line once per socket and once per address per window. */
  readonly logs: LogSampler;
  readonly addresses: ConnectionAddresses;
}

/** The kinds client events are counted under besides the gateway's own event names (never a name a client made up). */
const RELAYED_KIND = 'client-event';
const UNKNOWN_KIND = 'unknown';

/**
 * The dispatcher of every event a socket sends: the gateway's own events (`listeners`) and, for names
 * matching CLIENT_EVENTS, the client events relayed to a room. One listener (`onAny`, shared by every
 * socket: Socket.IO calls it with `this` bound to the socket) rate-limits every event, checks
 * EVENT_PERMISSIONS, then runs its handler; an unknown event with an ack is answered `EVENT_UNKNOWN`
 * (never a silent success), without an ack it is ignored. Events of a socket already disconnected (read
 * from the wire before a flooding socket was cut) are dropped: nothing is handled, answered or logged. With metrics on, every event's outcome is counted
 * under its kind: the gateway's event name, `client-event` for relayed client events, `unknown` otherwise
 * (the outcome cells of each kind are made here, once).
 */
export function createSocketEventListeners(deps: SocketEventDeps): (socket: GatewaySocket) => void {
  const { listeners, clientEvents, limiter, logger, metrics } = deps;
  const eventPermissions = deps.eventPermissions.map(({ event, permission }) => ({ event: new RoomPattern(event), permission }));
  const floodLine = deps.logs.line(logger, 'warn', 'client flooding; disconnected');
  const outcomesOf = new Map(Object.keys(listeners).map((event) => [event, metrics?.clientEventOutcomes(event)]));
  const relayedOutcomes = metrics?.clientEventOutcomes(RELAYED_KIND);
  const unknownOutcomes = metrics?.clientEventOutcomes(UNKNOWN_KIND);
  const rateLimited: Tally | undefined = metrics?.rateLimit('client_events');
  function dispatch(this: GatewaySocket, event: string, ...args: unknown[]): void {
    if (this.disconnected) return;
    const ack = typeof args.at(-1) === 'function' ? (args.at(-1) as Ack) : undefined;
    const listener = Object.hasOwn(listeners, event) ? listeners[event] : undefined;
    const relayed = listener === undefined && clientEvents.accepts(event);
    const outcomes = listener !== undefined ? outcomesOf.get(event) : relayed ? relayedOutcomes : unknownOutcomes;
    const verdict = limiter.take(this);
    if (verdict !== 'ok') {
      rateLimited?.inc();
      outcomes?.refused('RATE_LIMITED');
    }
    if (verdict === 'flooding') {
      floodLine.write(this, { address: deps.addresses.of(this.conn) }, { socketId: this.id, userId: this.data.userId });
      this.disconnect(true);
      return;
    }
    if (verdict === 'refused') {
      refuse(this, ack, args, listener, new GatewayError('RATE_LIMITED', 'Too many events; slow down (CLIENT_EVENTS_PER_SECOND)'));
      return;
    }
    const needed = eventPermissions.find((rule) => rule.event.matches(event));
    if (needed !== undefined && !hasPermission(this.data, needed.permission)) {
      outcomes?.refused('FORBIDDEN');
      refuse(this, ack, args, listener, new GatewayError('FORBIDDEN', `"${event}" needs the "${needed.permission}" permission`, { details: { permission: needed.permission } }));
      return;
    }
    if (listener !== undefined) listener.call(this, outcomes, args[0], args[1]);
    else if (relayed) acknowledgedListener(logger, async (socket, payload) => clientEvents.relay(socket, event, payload)).call(this, outcomes, args[0], args[1]);
    else {
      outcomes?.refused('EVENT_UNKNOWN');
      refuse(this, ack, args, listener, new GatewayError('EVENT_UNKNOWN', `The server does not handle "${event}"`));
    }
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

/** Answers a refusal decided by the dispatcher in the event's own refusal shape (seed 004's `status: false, message`, …); nothing without an ack. */
function refuse(socket: GatewaySocket, ack: Ack | undefined, args: unknown[], listener: SocketListener | undefined, refusal: GatewayError): void {
  if (ack === undefined) return;
  const payload = typeof args[0] === 'function' ? undefined : args[0];
  ack(refusalAnswer(socket, payload, refusal, listener?.seedRefusal));
}
