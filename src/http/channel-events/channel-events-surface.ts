import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { resolveTarget } from '../../protocol/publication.js';
import { apiKeyGuard, type KeyedPublisherOptions } from '../api-key-guard.js';
import { Name } from '../../protocol/names.js';
import { arrivalOf, countRefusedPublishes } from '../publish-surface.js';

const ChannelEventBody = Type.Object({ channel: Name, event: Type.String(), data: Type.Optional(Type.Unknown()) });
type ChannelEventBody = Static<typeof ChannelEventBody>;

export type ChannelEventsOptions = KeyedPublisherOptions;

/**
 * Seed 001's channel API, as it documents it: `POST /api/socket/events` with `X-Api-Key` and a JSON body
 * `{ channel, event, data? }` broadcasts `event` with `data` to the channel and answers `{ status: "ok" }`.
 */
export async function channelEventsSurface(app: FastifyInstance, { apiKeys, publisher }: ChannelEventsOptions): Promise<void> {
  app.addHook('onRequest', apiKeyGuard(apiKeys));
  app.post<{ Body: ChannelEventBody }>('/events', { schema: { body: ChannelEventBody }, onError: countRefusedPublishes(publisher, 'channel-events') }, async (request, reply) => {
    const { channel, event, data } = request.body;
    const { id } = await publisher.publish('channel-events', event, data, resolveTarget({ rooms: [channel] }), arrivalOf(reply));
    return { status: 'ok', id };
  });
}
