import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import { GatewayError } from '../../protocol/errors.js';
import { resolveTarget } from '../../protocol/publication.js';
import type { SessionControl } from '../../realtime/session-control.js';
import { API_KEY_REFUSALS, apiKeyGuard, type KeyedPublisherOptions } from '../api-key-guard.js';
import { Name } from '../../protocol/names.js';
import { arrivalOf, countRefusedPublishes } from '../publish-surface.js';
import { PublishAnswer } from '../../protocol/answer-schemas.js';
import { describeRoutes } from '../api-docs/refusals.js';
import { TAGS } from '../api-docs/tags.js';
import { API_KEY_SECURITY } from '../api-docs/security-schemes.js';

const EmitBody = Type.Object(
  { userId: Name, event: Type.String(), payload: Type.Optional(Type.Unknown()) },
  { examples: [{ userId: 'alice', event: 'profile:update', payload: { name: 'Alice' } }] },
);
type EmitBody = Static<typeof EmitBody>;

const ForceLogoutBody = Type.Object({ userId: Name, sessionId: Name }, { examples: [{ userId: 'alice', sessionId: 'tab-7' }] });
type ForceLogoutBody = Static<typeof ForceLogoutBody>;

const EmitAnswer = Type.Intersect([Type.Object({ ok: Type.Literal(true) }), PublishAnswer], { description: 'Sent to the user\'s sockets' });
const ForceLogoutAnswer = Type.Object(
  { ok: Type.Literal(true), disconnected: Type.Integer({ minimum: 0, description: 'Sockets of other sessions logged out' }) },
  { description: 'The session is the active one' },
);

/** What the internal routes need: the API keys, INTERNAL_EVENTS, the publisher and force-logout. */
export interface InternalOptions extends Pick<Config, 'internalEvents'>, KeyedPublisherOptions {
  readonly sessionControl: Pick<SessionControl, 'forceLogout'>;
}

/**
 * Seed 003's internal routes, exactly as it documents them, behind the API key
 * (`Authorization: Bearer <INTERNAL_SECRET>` or any other configured key).
 */
export async function internalSurface(app: FastifyInstance, { apiKeys, internalEvents, publisher, sessionControl }: InternalOptions): Promise<void> {
  app.addHook('onRequest', apiKeyGuard(apiKeys));
  describeRoutes(app, { tag: TAGS.internal.name, security: API_KEY_SECURITY, refusals: API_KEY_REFUSALS });
  const allowed = new Set(internalEvents);

  /** Emits `event` with `payload` to room `user:{userId}`, for the events in INTERNAL_EVENTS only. */
  app.post<{ Body: EmitBody }>('/emit', {
    schema: {
      summary: 'Emit an internal event to one user',
      description: `\`event\` must be one of INTERNAL_EVENTS (${internalEvents.join(', ')}); it reaches every socket of the user.`,
      body: EmitBody,
      response: { 200: EmitAnswer },
    },
    onError: countRefusedPublishes(publisher, 'internal'),
    config: { refusals: ['EVENT_NOT_ALLOWED', 'EVENT_RESERVED', 'ENGINE_UNAVAILABLE'] },
  }, async (request, reply) => {
    const { userId, event, payload } = request.body;
    if (!allowed.has(event)) {
      throw new GatewayError('EVENT_NOT_ALLOWED', `"${event}" is not an internal event; allowed: ${[...allowed].join(', ')}`, {
        details: { field: 'event', allowed: [...allowed] },
      });
    }
    return { ok: true, ...(await publisher.publish('internal', event, payload, resolveTarget({ users: [userId] }), arrivalOf(reply))) };
  });

  await forceLogoutRoute(app, { sessionControl });
}

/**
 * `POST /force-logout { userId, sessionId }`: sets the active session and logs out (`auth:logout`, then
 * disconnect) every other session of the user. Mounted under `/internal` and in the admin dashboard's API.
 */
export async function forceLogoutRoute(app: FastifyInstance, { sessionControl }: Pick<InternalOptions, 'sessionControl'>): Promise<void> {
  app.post<{ Body: ForceLogoutBody }>('/force-logout', {
    schema: {
      summary: 'Make one session the user\'s active one',
      description: 'Every other session of the user gets `auth:logout` and is disconnected.',
      body: ForceLogoutBody,
      response: { 200: ForceLogoutAnswer },
    },
    config: { refusals: ['ENGINE_UNAVAILABLE'] },
  }, async (request) => {
    const { userId, sessionId } = request.body;
    const disconnected = await sessionControl.forceLogout(userId, sessionId);
    return { ok: true, disconnected };
  });
}
