/** One published message as room history keeps it. */
export interface HistoryMessage {
  readonly offset: number;
  readonly id: string;
  readonly event: string;
  readonly data: unknown;
  /** Unix milliseconds of the publish. */
  readonly ts: number;
}

/** Where a message landed in one room's history. */
export interface HistoryPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** What a history read answers. `recovered: false` means a gap that cannot be filled: resync from the source. */
export interface HistoryPage {
  readonly room: string;
  /** The room's current epoch; `null` when the room has no history (never published, or expired). */
  readonly epoch: string | null;
  /** The room's latest offset (0 when it has none). */
  readonly offset: number;
  readonly recovered: boolean;
  readonly messages: readonly HistoryMessage[];
}

/**
 * Room history: the last N messages of each room, each with an offset that grows by one per message
 * within an epoch. A new epoch starts when a room's history was lost (expired, or a store restarted
 * empty), so offsets of different epochs never compare.
 */
export interface HistoryStore {
  /** Appends one message to each room, atomically per room, and answers its position in each. */
  append(rooms: readonly string[], message: Omit<HistoryMessage, 'offset'>): Promise<Record<string, HistoryPosition>>;
  /**
   * The messages after `since` in `room`. Not recovered when `epoch` is not the room's current one, or
   * messages after `since` were already trimmed or expired.
   */
  read(room: string, since: number | undefined, epoch: string | undefined): Promise<HistoryPage>;
}

/**
 * The answer to a history read, shared by every store: what came after `since`, and whether that is
 * the whole of it (same epoch, nothing trimmed in between).
 */
export function pageOf(
  room: string,
  history: { epoch: string; offset: number; messages: readonly HistoryMessage[] } | undefined,
  since: number | undefined,
  epoch: string | undefined,
): HistoryPage {
  if (history === undefined) {
    return { room, epoch: null, offset: 0, recovered: (since ?? 0) === 0 && epoch === undefined, messages: [] };
  }
  const sameEpoch = epoch === undefined || epoch === history.epoch;
  const after = sameEpoch && since !== undefined ? since : 0;
  const messages = history.messages.filter((message) => message.offset > after);
  const oldest = history.messages[0]?.offset ?? history.offset + 1;
  const gapless = sameEpoch && (since === undefined || since >= oldest - 1) && (since ?? 0) <= history.offset;
  return { room, epoch: history.epoch, offset: history.offset, recovered: gapless, messages };
}
