import { randomUUID } from 'node:crypto';
import { pageOf, type HistoryMessage, type HistoryPage, type HistoryPosition, type HistoryStore } from './history.js';

interface RoomHistory {
  readonly epoch: string;
  offset: number;
  readonly messages: HistoryMessage[];
  expiresAt: number;
}

/** How often expired rooms are dropped. */
const SWEEP_MS = 60_000;

/**
 * Room history in this process: the last `size` messages per room, kept `ttlMs` after the room's last
 * publish. One node only, and lost on restart (the next publish starts a new epoch).
 */
export class MemoryHistory implements HistoryStore {
  private readonly rooms = new Map<string, RoomHistory>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly size: number,
    private readonly ttlMs: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();
  }

  async append(rooms: readonly string[], message: Omit<HistoryMessage, 'offset'>): Promise<Record<string, HistoryPosition>> {
    const now = Date.now();
    const positions: Record<string, HistoryPosition> = {};
    for (const room of rooms) {
      let history = this.live(room, now);
      if (history === undefined) this.rooms.set(room, (history = { epoch: randomUUID(), offset: 0, messages: [], expiresAt: 0 }));
      history.offset += 1;
      // Spelled out, not `{ ...message, offset }`: object spread is a slow generic copy in V8 (2 % of a targeted publish).
      history.messages.push({ offset: history.offset, id: message.id, event: message.event, data: message.data, ts: message.ts });
      if (history.messages.length > this.size) history.messages.shift();
      history.expiresAt = now + this.ttlMs;
      positions[room] = { epoch: history.epoch, offset: history.offset };
    }
    return positions;
  }

  async read(room: string, since: number | undefined, epoch: string | undefined): Promise<HistoryPage> {
    return pageOf(room, this.live(room, Date.now()), since, epoch);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private live(room: string, now: number): RoomHistory | undefined {
    const history = this.rooms.get(room);
    if (history !== undefined && history.expiresAt <= now) {
      this.rooms.delete(room);
      return undefined;
    }
    return history;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [room, history] of this.rooms) if (history.expiresAt <= now) this.rooms.delete(room);
  }
}
