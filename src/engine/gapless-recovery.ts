import { MessageType, type Adapter, type BroadcastOptions, type PrivateSessionId, type Room, type Session, type SocketId } from 'socket.io-adapter';

/**
 * The Redis Streams adapter (0.3.1) as {@link withGaplessRecovery} reaches into it. `onRawMessage` is its
 * stream reader's entry point and `publishAndReturnOffset` its XADD (socket.io-adapter's `ClusterAdapter`
 * step, protected). `addOffsetIfNecessary` is the `ClusterAdapter` step that appends an entry's offset to a
 * packet right before it is delivered on this node — private upstream, but the one place every
 * recoverable delivery goes through.
 */
interface StreamsAdapter extends Adapter {
  readonly uid: string;
  addSockets(opts: BroadcastOptions, rooms: Room[]): Promise<void>;
  delSockets(opts: BroadcastOptions, rooms: Room[]): Promise<void>;
  disconnectSockets(opts: BroadcastOptions, close: boolean): Promise<void>;
  onRawMessage(message: RawStreamEntry, offset: string): void;
  publishAndReturnOffset(message: { type: MessageType; data: unknown }): Promise<string>;
  addOffsetIfNecessary(packet: { data: unknown[] }, opts: BroadcastOptions, offset: string): void;
}

/** A stream entry as the adapter's reader hands it over. */
interface RawStreamEntry {
  readonly uid: string;
  readonly nsp: string;
  readonly type: string;
  readonly data?: string;
}

/** Stands for this node's uid on its own operations read back from the stream, which the adapter would skip. */
const READ_BACK = 'read-back';

/** The operations the adapter carries in the stream (the rest goes over pub/sub, unordered and unrecorded). */
const STREAMED: ReadonlySet<string> = new Set([MessageType.BROADCAST, MessageType.SOCKETS_JOIN, MessageType.SOCKETS_LEAVE, MessageType.DISCONNECT_SOCKETS].map(String));

/** A recoverable packet delivered on this node, with its stream entry id. */
interface Delivery {
  readonly offset: string;
  readonly data: readonly unknown[];
  readonly rooms: ReadonlySet<Room>;
  readonly except: ReadonlySet<Room> | undefined;
}

/** A session read from Redis whose socket has not joined its rooms yet. */
interface Handover {
  readonly session: Session;
  /** The offset the replay reaches: its last packet's, or the client's own when it missed nothing. */
  readonly replayedUpTo: string;
  /** What this node delivered since the restore started. */
  readonly delivered: Delivery[];
}

/**
 * Wraps the Redis Streams adapter factory so that connection-state recovery gives a client every message
 * after its offset exactly once. A client comes back with the offset of the last message it received, and
 * is replayed the stream after it; two gaps in the adapter (0.3.1) break that:
 *
 * - **Delivery order.** Upstream, a node applies its own operations (broadcasts, room joins and leaves,
 *   disconnects) to its sockets as soon as their XADD is answered, and other nodes' as its stream reader
 *   gets to them: a client may receive entry 7 before entry 6. Dropped in between, it comes back with
 *   offset 7 and entry 6 is never replayed; dropped after both, it comes back with 6 and gets 7 twice.
 *   Here a node's own operations are only published, and take effect on its sockets when its stream
 *   reader reads them back, like every other node's: in stream order (so an `auth:logout` still reaches
 *   the socket before the disconnect that follows it).
 * - **Handover.** The replay is read with XRANGE until a read comes back empty; Socket.IO puts the socket
 *   in its rooms a few microtasks later. What the node delivers in between — an entry added after the last
 *   read whose reader reply was handled before the XRANGE's — misses the socket; an entry the replay has,
 *   read late by the reader, reaches it twice. Here every delivery during a restore is recorded, and when
 *   the socket joins its rooms (synchronously, just before Socket.IO sends the replay) those past the
 *   replay that reach it are appended to the replay; until the reader has passed the replay's last offset,
 *   deliveries at or below it skip the socket.
 */
export function withGaplessRecovery<A extends Adapter>(create: (namespace: unknown) => A): (namespace: unknown) => A {
  // A function, not an arrow: Socket.IO calls it with `new`, and takes the adapter it returns.
  return function gaplessRecoveryAdapter(namespace: unknown): A {
    const adapter = create(namespace);
    new GaplessRecovery(adapter as unknown as StreamsAdapter).install();
    return adapter;
  };
}

class GaplessRecovery {
  /** Restores under way, each recording what this node delivers. */
  private readonly recording = new Set<Delivery[]>();
  /** Restored sessions not joined yet, by socket id. */
  private readonly joining = new Map<SocketId, Handover>();
  /** Restored sockets whose replay reached this offset, until the stream reader is past it. */
  private readonly replayed = new Map<SocketId, string>();

  constructor(private readonly adapter: StreamsAdapter) {
    for (const method of ['broadcast', 'addSockets', 'delSockets', 'disconnectSockets', 'restoreSession', 'addAll', 'onRawMessage', 'publishAndReturnOffset', 'addOffsetIfNecessary'] as const) {
      if (typeof adapter[method] !== 'function') throw new Error(`the Redis Streams adapter has no ${method}(): gapless recovery cannot be installed`);
    }
  }

  install(): void {
    const { adapter } = this;
    const broadcast = adapter.broadcast.bind(adapter);
    const addSockets = adapter.addSockets.bind(adapter);
    const delSockets = adapter.delSockets.bind(adapter);
    const disconnectSockets = adapter.disconnectSockets.bind(adapter);
    const restoreSession = adapter.restoreSession.bind(adapter);
    const addAll = adapter.addAll.bind(adapter);
    const onRawMessage = adapter.onRawMessage.bind(adapter);
    const addOffset = adapter.addOffsetIfNecessary.bind(adapter);
    // Upstream's operations without their local effect, which the stream reader brings about, in order.
    // Only this node's (`local` flag) are still applied at once: they never enter the stream.
    const publish = (type: MessageType, data: Record<string, unknown>) => adapter.publishAndReturnOffset({ type, data }).then(() => undefined, () => undefined);
    adapter.broadcast = (packet: unknown, opts: BroadcastOptions) =>
      opts.flags?.local === true ? broadcast(packet, opts) : publish(MessageType.BROADCAST, { packet, opts: encodeOptions(opts) });
    adapter.addSockets = (opts, rooms) =>
      opts.flags?.local === true ? addSockets(opts, rooms) : publish(MessageType.SOCKETS_JOIN, { opts: encodeOptions(opts), rooms });
    adapter.delSockets = (opts, rooms) =>
      opts.flags?.local === true ? delSockets(opts, rooms) : publish(MessageType.SOCKETS_LEAVE, { opts: encodeOptions(opts), rooms });
    adapter.disconnectSockets = (opts, close) =>
      opts.flags?.local === true ? disconnectSockets(opts, close) : publish(MessageType.DISCONNECT_SOCKETS, { opts: encodeOptions(opts), close });
    adapter.onRawMessage = (message, offset) => {
      const own = message.uid === adapter.uid && STREAMED.has(message.type);
      onRawMessage(own ? { ...message, uid: READ_BACK } : message, offset);
      this.readerPassed(offset);
    };
    adapter.restoreSession = (pid, offset) => this.restore(restoreSession, pid, offset);
    adapter.addAll = (id, rooms) => {
      this.handOver(id);
      return addAll(id, rooms);
    };
    adapter.addOffsetIfNecessary = (packet, opts, offset) => {
      addOffset(packet, opts, offset);
      if (packet.data.at(-1) === offset) this.delivering(packet.data, opts, offset);
    };
  }

  private async restore(restoreSession: StreamsAdapter['restoreSession'], pid: PrivateSessionId, offset: string): Promise<Session> {
    const delivered: Delivery[] = [];
    this.recording.add(delivered);
    let session: Session;
    try {
      session = await restoreSession(pid, offset);
    } catch (error) {
      this.recording.delete(delivered);
      throw error;
    }
    const last = session.missedPackets.at(-1)?.at(-1);
    const { sid } = session;
    this.joining.set(sid, { session, replayedUpTo: typeof last === 'string' ? last : offset, delivered });
    // Socket.IO joins the rooms within the microtasks that follow; past them, the socket is not coming. (Not
    // the session in this closure: it would keep the whole replay alive while it is being sent.)
    setImmediate(() => this.forget(sid, delivered));
    return session;
  }

  /** The restored socket joins its rooms: what was delivered past its replay, and reaches it, is replayed too. */
  private handOver(id: SocketId): void {
    const handover = this.joining.get(id);
    if (handover === undefined) return;
    this.forget(id, handover.delivered);
    const { session, replayedUpTo, delivered } = handover;
    for (const delivery of delivered) {
      if (compareOffsets(delivery.offset, replayedUpTo) > 0 && reaches(session.rooms, delivery)) session.missedPackets.push([...delivery.data]);
    }
    this.replayed.set(id, replayedUpTo);
  }

  /** Stops the recording `delivered` of a restore, and the restore with it if it is still the socket's. */
  private forget(id: SocketId, delivered: Delivery[]): void {
    this.recording.delete(delivered);
    if (this.joining.get(id)?.delivered === delivered) this.joining.delete(id);
  }

  /** A recoverable packet is about to reach this node's sockets: recorded for restores, kept from sockets already replayed it. */
  private delivering(data: unknown[], opts: BroadcastOptions, offset: string): void {
    for (const delivered of this.recording) delivered.push({ offset, data, rooms: opts.rooms, except: opts.except });
    let except: Set<Room> | undefined;
    for (const [id, replayedUpTo] of this.replayed) {
      if (compareOffsets(offset, replayedUpTo) > 0) continue;
      except ??= new Set(opts.except);
      except.add(id);
    }
    if (except !== undefined) opts.except = except;
  }

  /** The stream reader handled `offset`: it reads in order, so nothing at or below it comes again. */
  private readerPassed(offset: string): void {
    for (const [id, replayedUpTo] of this.replayed) {
      if (compareOffsets(offset, replayedUpTo) >= 0) this.replayed.delete(id);
    }
  }
}

/** socket.io-adapter's wire form of broadcast options (its own `encodeOptions` is not exported). */
function encodeOptions(opts: BroadcastOptions): { rooms: Room[]; except: Room[]; flags: BroadcastOptions['flags'] } {
  return { rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags };
}

/** Orders two Redis stream entry ids (`{milliseconds}-{sequence}`). */
function compareOffsets(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/** Whether a delivery reaches a socket in `rooms` (socket.io-adapter's own rule for replays). */
function reaches(rooms: readonly Room[], delivery: Delivery): boolean {
  const included = delivery.rooms.size === 0 || rooms.some((room) => delivery.rooms.has(room));
  return included && !rooms.some((room) => delivery.except?.has(room) === true);
}
