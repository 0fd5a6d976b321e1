import type { FastifyInstance } from 'fastify';
import { signJoinToken } from '../../rooms/join-token.js';
import type { Config } from '../../config/config.js';
import { JoinTokenAnswer, JoinTokenBody } from './schemas.js';

/** What minting join tokens needs: the key they are signed with (the first API key) and their default lifetime. */
export interface JoinTokenRoutesOptions extends Pick<Config, 'joinTokenTtlS'> {
  readonly joinTokenKey: string;
}

/**
 * `POST /v1/join-tokens` `{ channel, data?, ttlS? }`: mints a join token (the HMAC-SHA256 variant) that a
 * backend hands to a client, which then does `socket.emit("join", token)`.
 */
export async function joinTokenRoutes(app: FastifyInstance, { joinTokenKey, joinTokenTtlS }: JoinTokenRoutesOptions): Promise<void> {
  app.post<{ Body: JoinTokenBody }>('/join-tokens', {
    schema: {
      summary: 'Mint a join token for a channel',
      description: `Signed with the first API key; valid \`ttlS\` seconds (default JOIN_TOKEN_TTL_S, ${joinTokenTtlS}).`,
      body: JoinTokenBody,
      response: { 200: { ...JoinTokenAnswer, description: 'The token' } },
    },
  }, async (request) => {
    const { channel, data, ttlS } = request.body;
    const { token, expiresAt } = signJoinToken(channel, data, ttlS ?? joinTokenTtlS, joinTokenKey);
    return { token, channel, expiresAt };
  });
}
