import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../protocol/errors.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { HistoryStore } from '../../stores/history.js';
import { HistoryAnswer } from '../../protocol/answer-schemas.js';
import { HistoryQuery, RoomParams } from './schemas.js';

/** What the history route reads: room history (`undefined` when HISTORY_SIZE is 0) and the publisher's readiness. */
export interface HistoryRoutesOptions {
  readonly history: Pick<HistoryStore, 'read'> | undefined;
  readonly publisher: Pick<Publisher, 'assertReady'>;
}

/**
 * `GET /v1/rooms/{room}/history?since=&epoch=`: what was published to the room after offset `since` of
 * `epoch`, with `recovered: false` when that cannot be answered whole (new epoch, trimmed or expired).
 */
export async function historyRoutes(app: FastifyInstance, { history, publisher }: HistoryRoutesOptions): Promise<void> {
  app.get<{ Params: RoomParams; Querystring: HistoryQuery }>(
    '/rooms/:room/history',
    {
      schema: {
        summary: 'A room\'s history after an offset',
        description: '`recovered: false` when the messages after `since` cannot all be given (trimmed, expired, or another epoch): resync from your source of truth.',
        params: RoomParams,
        querystring: HistoryQuery,
        response: { 200: { ...HistoryAnswer, description: 'The messages kept after `since`' } },
      },
      config: { refusals: ['NOT_FOUND', 'ENGINE_UNAVAILABLE'] },
    },
    async (request) => {
      if (history === undefined) throw new GatewayError('NOT_FOUND', 'Room history is off (HISTORY_SIZE=0)');
      publisher.assertReady();
      return history.read(request.params.room, request.query.since, request.query.epoch);
    },
  );
}
