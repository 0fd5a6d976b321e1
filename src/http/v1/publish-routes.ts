import type { FastifyInstance } from 'fastify';
import { PERMISSIONS } from '../../auth/permissions.js';
import { GatewayError, isGatewayError, type ErrorBody } from '../../protocol/errors.js';
import { resolveTarget } from '../../protocol/publication.js';
import type { PublishResult, Publisher } from '../../realtime/publisher.js';
import type { Config } from '../../config/config.js';
import { compileBodyValidator } from '../validation.js';
import { arrivalOf, countRefusedPublishes } from '../publish-surface.js';
import { PublishAnswer } from '../../protocol/answer-schemas.js';
import { BatchAnswer, DocumentedBatchBody, PublishBody } from './schemas.js';

const validatePublishItem = compileBodyValidator(PublishBody);

/** What publishing needs: the publisher and MAX_BATCH_SIZE. */
export interface PublishRoutesOptions extends Pick<Config, 'maxBatchSize'> {
  readonly publisher: Publisher;
}

/**
 * `POST /v1/publish` (one message) and `POST /v1/batch` (many, in order, one result each). In the metrics
 * (surface `v1`) each batch item counts as one publish; a batch refused as a whole counts once.
 */
export async function publishRoutes(app: FastifyInstance, { publisher, maxBatchSize }: PublishRoutesOptions): Promise<void> {
  const onError = countRefusedPublishes(publisher, 'v1');
  app.post<{ Body: PublishBody }>('/publish', {
    schema: {
      summary: 'Publish one message',
      description: 'To `users`, `sessions`, `rooms` (at least one) or `broadcast: true`, skipping `except`. Every targeted socket gets `(data, { id, history? })`.',
      body: PublishBody,
      response: { 200: { ...PublishAnswer, description: 'Published: the message id and its place in each targeted room\'s history' } },
    },
    onError,
    config: { permission: PERMISSIONS.publish, refusals: ['NO_TARGET', 'EVENT_RESERVED', 'ENGINE_UNAVAILABLE'] },
  }, async (request, reply) => publishOne(publisher, request.body, arrivalOf(reply)));

  app.post<{ Body: unknown[] }>('/batch', {
    schema: {
      summary: 'Publish many messages, in order',
      description: `At most MAX_BATCH_SIZE (${maxBatchSize}) publish bodies; a bad item does not stop the others: its result is its refusal, \`details.field\` starting with its index (\`[3].event\`).`,
      // Each item is checked by the handler (its refusal is its result): Fastify only checks for an array.
      body: { type: 'array' },
      response: { 200: { ...BatchAnswer, description: 'One result per item' } },
    },
    onError,
    config: { permission: PERMISSIONS.publish, refusals: ['BATCH_TOO_LARGE', 'ENGINE_UNAVAILABLE'], documentedBody: DocumentedBatchBody(maxBatchSize) },
  }, async (request, reply) => {
    const items = request.body;
    if (items.length > maxBatchSize) {
      throw new GatewayError('BATCH_TOO_LARGE', `A batch holds at most ${maxBatchSize} items (MAX_BATCH_SIZE); this one has ${items.length}`);
    }
    publisher.assertReady();
    const receivedAt = arrivalOf(reply);
    const results: (PublishResult | { error: ErrorBody })[] = [];
    for (const [index, item] of items.entries()) {
      try {
        results.push(await publishOne(publisher, validatePublishItem(item, `[${index}]`), receivedAt));
      } catch (error) {
        // Earlier items are already out: answer per item, never fail the whole batch half-way.
        if (!isGatewayError(error)) request.log.error({ err: error, item: index }, 'batch item failed');
        const refusal = isGatewayError(error) ? error : new GatewayError('INTERNAL');
        publisher.refused('v1', refusal.code);
        results.push({ error: refusal.toBody() });
      }
    }
    return { results };
  });
}

function publishOne(publisher: Publisher, body: PublishBody, receivedAt: number): Promise<PublishResult> {
  return publisher.publish('v1', body.event, body.data, resolveTarget(body), receivedAt);
}
