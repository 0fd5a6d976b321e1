import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../protocol/errors.js';
import type { SurfaceOptions } from '../api-context.js';
import { HistoryQuery, RoomParams } from './schemas.js';

/**
 * `GET /v1/rooms/{room}/history?since=&epoch=`: what was published to the room after offset `since` of
 * `epoch`, with `recovered: false` when that cannot be answered whole (new epoch, trimmed or expired).
 */
export async function historyRoutes(app: FastifyInstance, { context }: SurfaceOptions): Promise<void> {
  app.get<{ Params: RoomParams; Querystring: HistoryQuery }>(
    '/rooms/:room/history',
    { schema: { params: RoomParams, querystring: HistoryQuery } },
    async (request) => {
      const { history } = context.engine;
      if (history === undefined) throw new GatewayError('NOT_FOUND', 'Room history is off (HISTORY_SIZE=0)');
      context.publisher.assertReady();
      return history.read(request.params.room, request.query.since, request.query.epoch);
    },
  );
}
