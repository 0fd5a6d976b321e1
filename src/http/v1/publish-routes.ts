import type { FastifyInstance } from 'fastify';
import { PERMISSIONS } from '../../auth/permissions.js';
import { GatewayError, isGatewayError, type ErrorBody } from '../../protocol/errors.js';
import { resolveTarget } from '../../protocol/publication.js';
import type { PublishResult, Publisher } from '../../realtime/publisher.js';
import type { Config } from '../../config/config.js';
import { compileBodyValidator } from '../validation.js';
import { PublishBody } from './schemas.js';

const validatePublishItem = compileBodyValidator(PublishBody);

/** What publishing needs: the publisher and MAX_BATCH_SIZE. */
export interface PublishRoutesOptions extends Pick<Config, 'maxBatchSize'> {
  readonly publisher: Publisher;
}

/** `POST /v1/publish` (one message) and `POST /v1/batch` (many, in order, one result each). */
export async function publishRoutes(app: FastifyInstance, { publisher, maxBatchSize }: PublishRoutesOptions): Promise<void> {
  app.post<{ Body: PublishBody }>('/publish', { schema: { body: PublishBody }, config: { permission: PERMISSIONS.publish } }, async (request) =>
    publishOne(publisher, request.body),
  );

  app.post<{ Body: unknown[] }>('/batch', { schema: { body: { type: 'array' } }, config: { permission: PERMISSIONS.publish } }, async (request) => {
    const items = request.body;
    if (items.length > maxBatchSize) {
      throw new GatewayError('BATCH_TOO_LARGE', `A batch holds at most ${maxBatchSize} items (MAX_BATCH_SIZE); this one has ${items.length}`);
    }
    publisher.assertReady();
    const results: (PublishResult | { error: ErrorBody })[] = [];
    for (const [index, item] of items.entries()) {
      try {
        results.push(await publishOne(publisher, validatePublishItem(item, `[${index}]`)));
      } catch (error) {
        // Earlier items are already out: answer per item, never fail the whole batch half-way.
        if (!isGatewayError(error)) request.log.error({ err: error, item: index }, 'batch item failed');
        results.push({ error: (isGatewayError(error) ? error : new GatewayError('INTERNAL')).toBody() });
      }
    }
    return { results };
  });
}

function publishOne(publisher: Publisher, body: PublishBody): Promise<PublishResult> {
  return publisher.publish(body.event, body.data, resolveTarget(body));
}
