import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../protocol/errors.js';
import { resolveTarget } from '../../protocol/publication.js';
import { roleRoom } from '../../protocol/own-rooms.js';
import { API_KEY_REFUSALS, apiKeyGuard, type KeyedPublisherOptions } from '../api-key-guard.js';
import { Name } from '../../protocol/names.js';
import { arrivalOf, countRefusedPublishes } from '../publish-surface.js';
import { PublishAnswer } from '../../protocol/answer-schemas.js';
import { describeRoutes } from '../api-docs/refusals.js';
import { TAGS } from '../api-docs/tags.js';
import { API_KEY_SECURITY } from '../api-docs/security-schemes.js';

const EventParams = Type.Object({ eventName: Type.String({ minLength: 1, maxLength: 200, examples: ['collection:update'] }) });
type EventParams = Static<typeof EventParams>;

/** `sender.roles`: the seed dispatched only events whose sender has roles (any truthy value; here a list or a name). */
const Sender = Type.Object({ roles: Type.Union([Type.Array(Type.String()), Type.String({ minLength: 1 })]) });

const EventBody = Type.Object({
  payload: Type.Unknown(),
  rooms: Type.Optional(Type.Array(Name, { maxItems: 10_000 })),
  sender: Sender,
  broadcast: Type.Optional(Type.Boolean()),
}, { examples: [{ payload: { id: 7, own: 'alice' }, rooms: ['editors'], sender: { roles: ['admin'] } }] });
type EventBody = Static<typeof EventBody>;

const EventAnswer = Type.Intersect([Type.Object({ status: Type.Literal('ok') }), PublishAnswer], { description: 'Emitted' });

/** GATEWAY_EMIT: what sockets receive, the request's `payload` (the seed's README) or its whole body `{ payload, rooms, sender }` (the seed's code). */
export type GatewayEmit = 'payload' | 'body';

export interface EventGatewayOptions extends KeyedPublisherOptions {
  readonly emit: GatewayEmit;
}

/**
 * Seed 002's HTTP-to-socket bridge: `POST {GATEWAY_BASE_PATH}/{eventName}` `{ payload, rooms?, sender }`
 * emits `eventName` to the rooms — each name is both a room and a role (sockets whose token has that role
 * are in `role:{name}`) — and, with `payload.own`, to that user's sockets. Sockets receive `payload`, or
 * with GATEWAY_EMIT=body the whole body as the seed's server sent it. Neither rooms nor `own` is a 400 (no
 * accidental broadcast) unless `broadcast: true`. A body without `payload` or `sender.roles`, which the
 * seed answered 200 and silently dropped, is a 400 naming the field. Answers `{ status: "ok", id }` (plus
 * history positions, as `POST /v1/publish`).
 */
export async function eventGatewaySurface(app: FastifyInstance, { apiKeys, publisher, emit }: EventGatewayOptions): Promise<void> {
  app.addHook('onRequest', apiKeyGuard(apiKeys));
  const onError = countRefusedPublishes(publisher, 'event-gateway');
  describeRoutes(app, { tag: TAGS.eventGateway.name, security: API_KEY_SECURITY, refusals: API_KEY_REFUSALS });
  app.post<{ Params: EventParams; Body: EventBody }>('/:eventName', {
    schema: {
      summary: 'Emit an event to rooms, roles or one user',
      description: `Each of \`rooms\` is a room and a role (\`role:{name}\`); \`payload.own\` adds that user. Sockets receive ${emit === 'body' ? 'the whole body (GATEWAY_EMIT=body)' : '`payload` (GATEWAY_EMIT=payload)'}.`,
      params: EventParams,
      body: EventBody,
      response: { 200: EventAnswer },
    },
    onError,
    config: { refusals: ['NO_TARGET', 'EVENT_RESERVED', 'ENGINE_UNAVAILABLE'] },
  }, async (request, reply) => {
    const { payload, rooms, broadcast } = request.body;
    const own = typeof payload === 'object' && payload !== null ? (payload as { own?: unknown }).own : undefined;
    if (own !== undefined && (typeof own !== 'string' && typeof own !== 'number')) {
      throw new GatewayError('INVALID_BODY', 'payload.own must be a user id', { details: { field: 'payload.own' } });
    }
    const target = resolveTarget({
      rooms: (rooms ?? []).flatMap((room) => [room, roleRoom(room)]),
      users: own === undefined ? [] : [String(own)],
      broadcast,
    });
    const result = await publisher.publish('event-gateway', request.params.eventName, emit === 'body' ? request.body : payload, target, arrivalOf(reply));
    return { status: 'ok', ...result };
  });
}
