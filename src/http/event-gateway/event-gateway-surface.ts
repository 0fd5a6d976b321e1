import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../protocol/errors.js';
import { resolveTarget } from '../../protocol/publication.js';
import { roleRoom } from '../../protocol/own-rooms.js';
import { apiKeyGuard, type KeyedPublisherOptions } from '../api-key-guard.js';
import { Name } from '../../protocol/names.js';

const EventParams = Type.Object({ eventName: Type.String({ minLength: 1, maxLength: 200 }) });
type EventParams = Static<typeof EventParams>;

const EventBody = Type.Object({
  payload: Type.Optional(Type.Unknown()),
  rooms: Type.Optional(Type.Array(Name, { maxItems: 10_000 })),
  sender: Type.Optional(Type.Unknown()),
  broadcast: Type.Optional(Type.Boolean()),
});
type EventBody = Static<typeof EventBody>;

export type EventGatewayOptions = KeyedPublisherOptions;

/**
 * Seed 002's HTTP-to-socket bridge: `POST {GATEWAY_BASE_PATH}/{eventName}` `{ payload, rooms?, sender? }`
 * emits `eventName` with `payload` to the rooms — each name is both a room and a role (sockets whose token
 * has that role are in `role:{name}`) — or, with `payload.own`, only to that user's sockets. Neither
 * rooms nor `own` is a 400 (no accidental broadcast) unless `broadcast: true`. `sender` is accepted and
 * not forwarded. Answers `{ id }` (plus history positions, as `POST /v1/publish`).
 */
export async function eventGatewaySurface(app: FastifyInstance, { apiKeys, publisher }: EventGatewayOptions): Promise<void> {
  app.addHook('onRequest', apiKeyGuard(apiKeys));
  app.post<{ Params: EventParams; Body: EventBody }>('/:eventName', { schema: { params: EventParams, body: EventBody } }, async (request) => {
    const { payload, rooms, broadcast } = request.body;
    const own = typeof payload === 'object' && payload !== null ? (payload as { own?: unknown }).own : undefined;
    if (own !== undefined && (typeof own !== 'string' && typeof own !== 'number')) {
      throw new GatewayError('INVALID_BODY', 'payload.own must be a user id', { details: { field: 'payload.own' } });
    }
    const target = own !== undefined
      ? resolveTarget({ users: [String(own)] })
      : resolveTarget({ rooms: (rooms ?? []).flatMap((room) => [room, roleRoom(room)]), broadcast });
    return publisher.publish(request.params.eventName, payload, target);
  });
}
