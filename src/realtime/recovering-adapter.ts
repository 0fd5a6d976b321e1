import type { Namespace } from 'socket.io';
import { READY_EVENT } from '../protocol/events.js';
import { Adapter, type BroadcastOptions, type PrivateSessionId, type Session } from 'socket.io-adapter';

/** An event packet as the adapter sees it before encoding: `data` is `[event, ...args]`. */
interface Packet {
  readonly type: number;
  readonly id?: number;
  readonly data: unknown[];
}

interface StoredPacket {
  readonly id: string;
  readonly opts: BroadcastOptions;
  readonly data: unknown[];
  readonly emittedAt: number;
}

type PersistedSession = Session & { disconnectedAt: number };

const EVENT_PACKET = 2;
const OFFSET = /^[0-9]{1,15}$/;

/**
 * Socket.IO's one-node adapter with connection-state recovery — what socket.io-adapter's
 * `SessionAwareAdapter` does (keep each broadcast for the recovery window with an offset, keep a dropped
 * socket's session, replay what its rooms missed) — plus two things upstream lacks (socket.io-adapter 2.5):
 *
 * - `close()` stops the sweep timer. Upstream never clears it: every namespace ever closed (a client
 *   namespace its last socket left) would stay reachable from it, with its adapter, for the process's life.
 * - A new socket's {@link READY_EVENT} gets the offset of "now" ({@link startOffset}) without being
 *   stored. Upstream only knows offsets of stored broadcasts, so giving every socket a starting point
 *   meant one stored packet per connection, kept for the whole window (about 1.5 KiB per connection).
 *
 * Written here rather than subclassed: upstream's fields are private and its timer is a constructor local.
 */
export class RecoveringAdapter extends Adapter {
  private readonly sessions = new Map<PrivateSessionId, PersistedSession>();
  private readonly packets: StoredPacket[] = [];
  /** How many packets the sweep has dropped from the front of {@link packets} since the adapter started. */
  private dropped = 0;
  private readonly windowMs: number;
  private readonly sweep: ReturnType<typeof setInterval>;

  constructor(namespace: Namespace, windowMs: number) {
    super(namespace);
    this.windowMs = windowMs;
    this.sweep = setInterval(() => this.dropExpired(), 60_000);
    this.sweep.unref();
  }

  /**
   * The offset of "now": a socket given it recovers every packet stored after this call. An offset is a
   * count of the packets stored so far (a stored packet's own offset counts it), so it says where to resume
   * without a search, whether it came from a packet or from here.
   */
  startOffset(): string {
    return String(this.dropped + this.packets.length);
  }

  override persistSession(session: Session): void {
    // Not `{ ...session, disconnectedAt }`, which gives each object a hidden class of its own in V8 (see the handshake's socket.data).
    this.sessions.set(session.pid, Object.assign({}, session, { disconnectedAt: Date.now() }));
  }

  /** Socket.IO connects the socket as a new one when this rejects (as upstream, which answers null). */
  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
    const session = this.sessions.get(pid);
    this.sessions.delete(pid);
    if (session === undefined || session.disconnectedAt + this.windowMs < Date.now()) return Promise.reject(new Error('no session to restore'));
    const first = this.positionAfter(offset);
    if (first === undefined) return Promise.reject(new Error('the offset is unknown or already swept'));
    const missedPackets: unknown[][] = [];
    for (let i = first; i < this.packets.length; i++) {
      const packet = this.packets[i]!;
      if (reaches(session.rooms, packet.opts)) missedPackets.push(packet.data);
    }
    const { disconnectedAt: _disconnectedAt, ...restored } = session;
    return Promise.resolve({ ...restored, missedPackets });
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    // The ready event only carries the socket's start offset: nothing to replay, so nothing to store.
    if (packet.type === EVENT_PACKET && packet.data[0] === READY_EVENT) {
      packet.data.push(this.startOffset());
      super.broadcast(packet, opts);
      return;
    }
    // Packets with an ack cannot be replayed (the callback stays on the emitting node), volatile ones may be lost.
    if (packet.type === EVENT_PACKET && packet.id === undefined && opts.flags?.volatile === undefined) {
      const id = String(this.dropped + this.packets.length + 1);
      // The offset rides at the end of the arguments, where socket.io-client reads it.
      packet.data.push(id);
      this.packets.push({ id, opts, data: packet.data, emittedAt: Date.now() });
    }
    super.broadcast(packet, opts);
  }

  override close(): void {
    clearInterval(this.sweep);
    super.close();
  }

  /** The index in {@link packets} of the first packet after `offset`; undefined when it cannot be known. */
  private positionAfter(offset: string): number | undefined {
    if (!OFFSET.test(offset)) return undefined;
    const index = Number(offset) - this.dropped;
    return index >= 0 && index <= this.packets.length ? index : undefined;
  }

  private dropExpired(): void {
    const threshold = Date.now() - this.windowMs;
    for (const [pid, session] of this.sessions) if (session.disconnectedAt < threshold) this.sessions.delete(pid);
    let expired = 0;
    while (expired < this.packets.length && this.packets[expired]!.emittedAt < threshold) expired++;
    this.packets.splice(0, expired);
    this.dropped += expired;
  }
}

/** Whether a broadcast to `opts` reaches a socket in `rooms` (socket.io-adapter's own rule). */
function reaches(rooms: readonly string[], opts: BroadcastOptions): boolean {
  return (opts.rooms.size === 0 || rooms.some((room) => opts.rooms.has(room))) && !rooms.some((room) => opts.except?.has(room) === true);
}

/** The adapter class Socket.IO instantiates per namespace (`new Server({ adapter })`), for a recovery window. */
export function recoveringAdapterClass(windowMs: number): new (namespace: Namespace) => RecoveringAdapter {
  return class extends RecoveringAdapter {
    constructor(namespace: Namespace) {
      super(namespace, windowMs);
    }
  };
}
