import type { FastifyInstance } from 'fastify';
import { signJoinToken } from '../../rooms/join-token.js';
import type { SurfaceOptions } from '../api-context.js';
import { JoinTokenBody } from './schemas.js';

/**
 * `POST /v1/join-tokens` `{ channel, data?, ttlS? }`: mints a join token (the HMAC-SHA256 variant) that a
 * backend hands to a client, which then does `socket.emit("join", token)`.
 */
export async function joinTokenRoutes(app: FastifyInstance, { context }: SurfaceOptions): Promise<void> {
  app.post<{ Body: JoinTokenBody }>('/join-tokens', { schema: { body: JoinTokenBody } }, async (request) => {
    const { channel, data, ttlS } = request.body;
    const key = context.config.apiKeys[0]!;
    const { token, expiresAt } = signJoinToken(channel, data, ttlS ?? context.config.joinTokenTtlS, key);
    return { token, channel, expiresAt };
  });
}
