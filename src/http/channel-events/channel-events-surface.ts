import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { resolveTarget } from '../../protocol/publication.js';
import { API_KEY_REFUSALS, apiKeyGuard, type KeyedPublisherOptions } from '../api-key-guard.js';
import { Name } from '../../protocol/names.js';
import { arrivalOf, countRefusedPublishes } from '../publish-surface.js';
import { describeRoutes } from '../api-docs/refusals.js';
import { TAGS } from '../api-docs/tags.js';
import { API_KEY_SECURITY } from '../api-docs/security-schemes.js';

const ChannelEventBody = Type.Object(
  { channel: Name, event: Type.String(), data: Type.Optional(Type.Unknown()) },
  { examples: [{ channel: 'chat:lobby', event: 'message', data: { text: 'hello' } }] },
);
type ChannelEventBody = Static<typeof ChannelEventBody>;

export type ChannelEventsOptions = KeyedPublisherOptions;

/**
 * Seed 001's channel API, as it documents it: `POST /api/socket/events` with `X-Api-Key` and a JSON body
 * `{ channel, event, data? }` broadcasts `event` with `data` to the channel and answers `{ status: "ok" }`.
 */
export async function channelEventsSurface(app: FastifyInstance, { apiKeys, publisher }: ChannelEventsOptions): Promise<void> {
  app.addHook('onRequest', apiKeyGuard(apiKeys));
  const onError = countRefusedPublishes(publisher, 'channel-events');
  describeRoutes(app, { tag: TAGS.channelEvents.name, security: API_KEY_SECURITY, refusals: API_KEY_REFUSALS });
  app.post<{ Body: ChannelEventBody }>('/events', {
    schema: {
      summary: 'Broadcast an event to a channel',
      body: ChannelEventBody,
      response: { 200: Type.Object({ status: Type.Literal('ok'), id: Type.String() }, { description: 'Sent to the channel\'s sockets' }) },
    },
    onError,
    config: { refusals: ['EVENT_RESERVED', 'ENGINE_UNAVAILABLE'] },
  }, async (request, reply) => {
    const { channel, event, data } = request.body;
    const { id } = await publisher.publish('channel-events', event, data, resolveTarget({ rooms: [channel] }), arrivalOf(reply));
    return { status: 'ok', id };
  });
}
