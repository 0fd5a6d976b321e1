import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import { GatewayError } from '../../protocol/errors.js';
import { resolveTarget } from '../../protocol/publication.js';
import type { SessionControl } from '../../realtime/session-control.js';
import { apiKeyGuard, type KeyedPublisherOptions } from '../api-key-guard.js';
import { Name } from '../../protocol/names.js';

const EmitBody = Type.Object({ userId: Name, event: Type.String(), payload: Type.Optional(Type.Unknown()) });
type EmitBody = Static<typeof EmitBody>;

const ForceLogoutBody = Type.Object({ userId: Name, sessionId: Name });
type ForceLogoutBody = Static<typeof ForceLogoutBody>;

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
  const allowed = new Set(internalEvents);

  /** Emits `event` with `payload` to room `user:{userId}`, for the events in INTERNAL_EVENTS only. */
  app.post<{ Body: EmitBody }>('/emit', { schema: { body: EmitBody } }, async (request) => {
    const { userId, event, payload } = request.body;
    if (!allowed.has(event)) {
      throw new GatewayError('EVENT_NOT_ALLOWED', `"${event}" is not an internal event; allowed: ${[...allowed].join(', ')}`, {
        details: { field: 'event', allowed: [...allowed] },
      });
    }
    return { ok: true, ...(await publisher.publish(event, payload, resolveTarget({ users: [userId] }))) };
  });

  await forceLogoutRoute(app, { sessionControl });
}

/**
 * `POST /force-logout { userId, sessionId }`: sets the active session and logs out (`auth:logout`, then
 * disconnect) every other session of the user. Mounted under `/internal` and in the admin dashboard's API.
 */
export async function forceLogoutRoute(app: FastifyInstance, { sessionControl }: Pick<InternalOptions, 'sessionControl'>): Promise<void> {
  app.post<{ Body: ForceLogoutBody }>('/force-logout', { schema: { body: ForceLogoutBody } }, async (request) => {
    const { userId, sessionId } = request.body;
    const disconnected = await sessionControl.forceLogout(userId, sessionId);
    return { ok: true, disconnected };
  });
}
