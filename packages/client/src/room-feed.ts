import type { HistoryAnswer, HistoryPlace } from './protocol.js';
import { RecentIds } from './recent-ids.js';

/**
 * What a handler learns about a message besides its data: `id` (empty for events that are not publications,
 * such as presence and relayed client events), and where it sits in the room's history; `ts` only for
 * messages filled from history.
 */
export interface MessageMeta {
  readonly id: string;
  readonly room: string | undefined;
  readonly offset: number | undefined;
  readonly epoch: string | undefined;
  readonly ts?: number;
  /** The sender's user id, for a relayed client event (`send`). */
  readonly from?: string;
}
export type MessageHandler<T = unknown> = (data: T, meta: MessageMeta) => void;

/** History could not fill what a room missed: `epoch` (its history was reset) or `trimmed` (too old), or `error`. */
export interface Gap { readonly room: string; readonly reason: 'epoch' | 'trimmed' | 'error'; readonly code?: string }

interface Message {
  readonly event: string;
  readonly data: unknown;
  readonly id: string;
  readonly place: HistoryPlace | undefined;
  readonly ts?: number;
  /** Sent live (not read from history): a live message is never one delivered long ago. */
  readonly live?: boolean;
}

const SEEN_PER_ROOM = 1000;

/**
 * One room's messages, in order and once: each one goes to the room's handlers and then to `sink` (the
 * client's event listeners). While paused (a reconnect that was not recovered, until history has been read)
 * live messages wait; `fill` hands over the history answer, then the waiting ones, dropping what was seen.
 */
export class RoomFeed {
  readonly handlers = new Set<MessageHandler>();
  /** The last place delivered: where history is read from after a reconnect. */
  place: HistoryPlace | undefined;
  /**
   * Where the room's history stood when it was joined, until a message arrives: what was published while
   * the client was away before its first message is read from there. An empty `epoch`: it had no history yet.
   */
  floor: HistoryPlace | undefined;
  private readonly seen = new RecentIds(SEEN_PER_ROOM);
  /** The places (`epoch:offset`) of the messages delivered last: an offset seen twice means history was set back. */
  private readonly offsets = new RecentIds(SEEN_PER_ROOM);
  private waiting: Message[] | undefined;

  constructor(
    readonly room: string,
    private readonly sink: (event: string, data: unknown, meta: MessageMeta) => void,
    private readonly onGap: (gap: Gap) => void,
  ) {}

  get paused(): boolean {
    return this.waiting !== undefined;
  }

  /** A live message to this room. */
  receive(event: string, data: unknown, id: string, place: HistoryPlace | undefined): void {
    if (this.waiting !== undefined) this.waiting.push({ event, data, id, place, live: true });
    else this.deliver({ event, data, id, place, live: true });
  }

  /** Holds live messages until {@link fill} or {@link resume}. Pausing twice keeps what already waits. */
  pause(): void {
    this.waiting ??= [];
  }

  /**
   * Delivers a history answer read after {@link place}, then the messages that waited. Answers the gap
   * when the answer says the history no longer reaches back that far.
   */
  fill(answer: HistoryAnswer, asked: HistoryPlace): Gap | undefined {
    const gap: Gap | undefined = answer.recovered ? undefined : { room: this.room, reason: asked.epoch !== '' && answer.epoch !== asked.epoch ? 'epoch' : 'trimmed' };
    if (gap !== undefined) {
      // Start again from where the history stands now: an offset handed out again after a failover (same
      // epoch, lower offset) is not taken for one already delivered, and the next read is not a gap again.
      this.place = undefined;
      this.floor = { epoch: answer.epoch ?? '', offset: answer.epoch === null ? 0 : answer.offset - answer.messages.length };
    }
    if (answer.epoch !== null) {
      const epoch = answer.epoch;
      for (const message of answer.messages) this.deliver({ event: message.event, data: message.data, id: message.id, place: { epoch, offset: message.offset }, ts: message.ts });
    }
    this.resume();
    return gap;
  }

  /** Delivers the messages that waited and stops waiting. */
  resume(): void {
    const waiting = this.waiting ?? [];
    this.waiting = undefined;
    for (const message of waiting) this.deliver(message);
  }

  private deliver(message: Message): void {
    const { place, id } = message;
    if (this.seen.has(id)) return;
    let advance = true;
    if (place !== undefined && this.place !== undefined && place.epoch === this.place.epoch && place.offset <= this.place.offset) {
      if (!message.live) return; // read from history, at or before what was delivered: delivered already
      if (this.offsets.has(`${place.epoch}:${place.offset}`)) {
        // Another message had this offset: the history was set back (a Redis failover lost the last writes
        // and hands their offsets out again). What was lost cannot be known: a gap, then carry on from here.
        this.onGap({ room: this.room, reason: 'epoch' });
      } else advance = false; // overtaken by a later one (published through another node): late, not lost
    }
    this.seen.add(id);
    if (place !== undefined) {
      this.offsets.add(`${place.epoch}:${place.offset}`);
      if (advance) this.place = place;
    }
    const meta: MessageMeta = { id: message.id, room: this.room, offset: place?.offset, epoch: place?.epoch, ...(message.ts === undefined ? {} : { ts: message.ts }) };
    for (const handler of this.handlers) handler(message.data, meta);
    this.sink(message.event, message.data, meta);
  }
}
