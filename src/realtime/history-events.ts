import type { Logger } from 'pino';
import { GatewayError } from '../protocol/errors.js';
import { readHistoryRequest } from '../protocol/socket-schemas.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import type { HistoryPage, HistoryStore } from '../stores/history.js';
import { acknowledgedListener, type SocketListener } from './acknowledged-listener.js';
import { assertInRoom } from './assert-in-room.js';

export interface HistoryEventDeps {
  /** Room history, `undefined` when off (HISTORY_SIZE=0). */
  readonly history: HistoryStore | undefined;
  readonly logger: Logger;
}

/**
 * `history` `{ room, since?, epoch? }` (ack): the room's messages after `since`, as `GET
 * /v1/rooms/{room}/history` answers them. Only for rooms the socket is in; `NOT_FOUND` while history is off.
 */
export function createHistoryEventListeners(deps: HistoryEventDeps): Record<string, SocketListener> {
  return { history: acknowledgedListener(deps.logger, (socket, payload) => readHistory(socket, payload, deps.history)) };
}

async function readHistory(socket: GatewaySocket, payload: unknown, history: HistoryStore | undefined): Promise<HistoryPage> {
  if (history === undefined) throw new GatewayError('NOT_FOUND', 'Room history is off (HISTORY_SIZE=0)');
  const { room, since, epoch } = readHistoryRequest(payload);
  assertInRoom(socket, room);
  return history.read(room, since, epoch);
}
