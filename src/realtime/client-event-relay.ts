import { GatewayError } from '../protocol/errors.js';
import { GATEWAY_EVENTS } from '../protocol/events.js';
import { anyMatches, RoomPattern } from '../protocol/room-pattern.js';
import type { GatewayServer, GatewaySocket } from '../protocol/socket-types.js';
import type { BackendWebhooks } from '../webhooks/backend-webhooks.js';
import type { WebhookSender } from '../webhooks/webhook-sender.js';
import { assertPublishable } from '../protocol/publication.js';
import { readClientRoomEvent } from '../protocol/socket-schemas.js';
import { assertInRoom } from './assert-in-room.js';

export interface ClientRoomEventDeps {
  readonly io: GatewayServer;
  /** CLIENT_EVENTS: the event names (`*` patterns) clients may send to a room. */
  readonly clientEvents: readonly string[];
  readonly webhookSender: WebhookSender;
  readonly backendWebhooks: BackendWebhooks | undefined;
}

/** Largest `data` a client may send to a room (bytes of JSON), like Pusher's client events. */
export const MAX_CLIENT_EVENT_BYTES = 10 * 1024;

/** The CLIENT_EVENTS relay as the socket-event dispatcher uses it. */
export interface ClientEventRelay {
  /** True when clients may send `event` to rooms (it matches CLIENT_EVENTS). */
  accepts(event: string): boolean;
  /** Relays `event` from `socket` to its room (see {@link createClientEventRelay}); throws a refusal. */
  relay(socket: GatewaySocket, event: string, payload: unknown): { ok: true };
}

/**
 * Client events to a room: `socket.emit(event, { room | channel, data })` for an event matching
 * CLIENT_EVENTS, from a socket in that room. The room's other sockets (any node) get `(data, { from, room })`;
 * the channel's join-token `webhook_url` gets `{ channel, event, data, socketId, userId, ts }`,
 * and WEBHOOK_URL gets `client.event`. Ephemeral: not kept in room history. The patterns are compiled once.
 */
export function createClientEventRelay(deps: ClientRoomEventDeps): ClientEventRelay {
  const patterns = deps.clientEvents.map((source) => new RoomPattern(source));
  return {
    accepts: (event) => anyMatches(patterns, event),
    relay: (socket, event, payload) => relayClientEvent(socket, event, payload, deps),
  };
}

function relayClientEvent(socket: GatewaySocket, event: string, payload: unknown, deps: ClientRoomEventDeps): { ok: true } {
  const { room, data } = readClientRoomEvent(payload);
  assertInRoom(socket, room);
  if (GATEWAY_EVENTS.includes(event)) throw new GatewayError('EVENT_NOT_ALLOWED', `"${event}" is sent by the gateway only`);
  assertPublishable(event, data);
  if (Buffer.byteLength(JSON.stringify(data) ?? '') > MAX_CLIENT_EVENT_BYTES) {
    throw new GatewayError('PAYLOAD_TOO_LARGE', `A client event carries at most ${MAX_CLIENT_EVENT_BYTES} bytes of data`, { details: { field: 'data' } });
  }
  const { userId } = socket.data;
  deps.io.to(room).except(socket.id).emit(event, data, { from: userId, room });
  const ts = Date.now();
  const channelWebhook = socket.data.channelWebhooks?.[room];
  if (channelWebhook !== undefined) deps.webhookSender.send(channelWebhook, { channel: room, event, data, socketId: socket.id, userId, ts });
  deps.backendWebhooks?.notify('client.event', { room, clientEvent: event, data, socketId: socket.id, userId });
  return { ok: true };
}
