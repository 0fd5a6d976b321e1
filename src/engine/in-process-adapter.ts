import type { Namespace } from 'socket.io';
import {
  ClusterAdapterWithHeartbeat, MessageType,
  type ClusterMessage, type ClusterResponse, type Offset, type PrivateSessionId, type ServerId, type Session,
} from 'socket.io-adapter';
import type { AdapterConstructor } from './engine.js';
import type { BusMember, InProcessBus, PersistedSession } from './in-process-bus.js';

/** Socket.IO's EVENT packet type (socket.io-parser `PacketType.EVENT`). */
const EVENT_PACKET = 2;

/** An event packet as the adapter sees it before encoding: `data` is `[event, ...args]`. */
interface EventPacket {
  readonly type: number;
  readonly id?: number;
  readonly data: unknown[];
}

/**
 * The Socket.IO adapter of one node of an in-process cluster: socket.io-adapter's `ClusterAdapterWithHeartbeat`
 * does the whole cluster protocol (broadcasts, room changes, disconnects, fetchSockets, serverSideEmit,
 * heartbeats), as it does under the Redis Streams adapter; this class only carries its messages over the
 * {@link InProcessBus}.
 *
 * Connection-state recovery works across nodes: every recoverable broadcast gets an offset from the bus
 * (so clients hold offsets every node knows), and dropped sockets' sessions are kept on the bus, so a
 * client may come back to any node of the cluster within the recovery window.
 */
export class InProcessAdapter extends ClusterAdapterWithHeartbeat implements BusMember {
  private readonly namespace: Namespace;

  constructor(namespace: Namespace, private readonly bus: InProcessBus) {
    super(namespace, {});
    this.namespace = namespace;
    bus.join(namespace.name, this);
  }

  get memberId(): ServerId {
    return this.uid;
  }

  protected override async doPublish(message: ClusterMessage): Promise<Offset> {
    return this.bus.publish(message, recoverablePacket(message) === undefined ? 0 : this.recoveryWindowMs());
  }

  protected override async doPublishResponse(requesterUid: ServerId, response: ClusterResponse): Promise<void> {
    this.bus.respond(requesterUid, response);
  }

  override persistSession(session: PersistedSession): void {
    const windowMs = this.recoveryWindowMs();
    if (windowMs > 0) this.bus.keepSession(session, windowMs);
  }

  /** The dropped socket's session with the broadcasts it missed (each ending with its offset), from any node. */
  override async restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
    const session = this.bus.takeSession(pid);
    const missed = this.bus.broadcastsAfter(this.namespace.name, offset);
    if (session === undefined || missed === undefined) throw new Error('session or offset not found');
    const missedPackets = missed.flatMap(({ message, offset: at }) => {
      const packet = recoverablePacket(message);
      return packet !== undefined && message.type === MessageType.BROADCAST && reaches(session.rooms, message.data.opts)
        ? [[...packet.data, at]]
        : [];
    });
    return { ...session, missedPackets };
  }

  override close(): void {
    super.close();
    this.bus.leave(this.namespace.name, this);
  }

  private recoveryWindowMs(): number {
    return this.namespace.server._opts.connectionStateRecovery?.maxDisconnectionDuration ?? 0;
  }
}

/**
 * The adapter class of one node, as `new Server({ adapter })` takes it: Socket.IO makes one instance per
 * namespace; `open` holds them until they are closed, so the node can close them all when it stops.
 */
export function inProcessAdapterClass(bus: InProcessBus, open: Set<InProcessAdapter>): AdapterConstructor {
  return class NodeAdapter extends InProcessAdapter {
    constructor(namespace: Namespace) {
      super(namespace, bus);
      open.add(this);
    }

    override close(): void {
      open.delete(this);
      super.close();
    }
  };
}

/**
 * The packet of a broadcast that connection-state recovery replays: an event without acknowledgement,
 * not volatile (the ClusterAdapter base gives exactly these an offset).
 */
function recoverablePacket(message: ClusterMessage): EventPacket | undefined {
  if (message.type !== MessageType.BROADCAST || message.data.requestId !== undefined || message.data.opts.flags?.volatile === true) return undefined;
  const packet = message.data.packet as Partial<EventPacket>;
  return packet.type === EVENT_PACKET && packet.id === undefined && Array.isArray(packet.data) ? (packet as EventPacket) : undefined;
}

/** Whether a broadcast to `opts` reaches a socket in `rooms` (socket.io-adapter's own rule). */
function reaches(rooms: readonly string[], opts: { rooms: string[]; except: string[] }): boolean {
  return (opts.rooms.length === 0 || rooms.some((room) => opts.rooms.includes(room))) && !rooms.some((room) => opts.except.includes(room));
}
