import type { RedisClient } from '../stores/redis-client.js';
import type { GatewayNamespace, GatewaySocket } from '../protocol/socket-types.js';

/** Why a socket left for good: Socket.IO keeps no recovery session for these, and neither do we. */
const DELIBERATE_DISCONNECTS: ReadonlySet<string> = new Set(['client namespace disconnect', 'server namespace disconnect']);

/**
 * Makes connection-state recovery survive a crashed node. Socket.IO writes a socket's recovery session
 * only when the socket disconnects, on its own node — a node killed with SIGKILL writes none, and its
 * clients could not recover on a survivor. So every socket's session is written to Redis (through the
 * adapter's own `persistSession`, same key and TTL) when it connects, whenever its rooms change (a client
 * recovered without a room it had joined would be told `recovered` and never get that room's messages
 * again), and every half window while it stays; a graceful disconnect overwrites it as usual, a deliberate
 * one deletes it. Changes within one turn of the event loop are written once.
 */
export class CrashRecovery {
  private refresher: NodeJS.Timeout | undefined;
  /** Sockets whose session changed since it was last written. */
  private readonly changed = new Set<string>();
  private flushing: NodeJS.Immediate | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly sessionKeyPrefix: string,
    private readonly windowMs: number,
  ) {}

  start(namespace: GatewayNamespace): void {
    const persist = (socket: GatewaySocket) => namespace.adapter.persistSession({
      sid: socket.id,
      pid: privateSessionId(socket),
      rooms: [...socket.rooms],
      data: socket.data,
    });
    const client = this.client;
    const prefix = this.sessionKeyPrefix;
    // Shared by every socket (`this` is the socket): no closure per connection.
    function onDisconnect(this: GatewaySocket, reason: string): void {
      if (DELIBERATE_DISCONNECTS.has(reason)) void client.del(`${prefix}${privateSessionId(this)}`).catch(() => undefined);
    }
    // Written after the turn's joins and leaves; not for a socket that left meanwhile (its disconnect wrote
    // or deleted its session, with the rooms it had).
    const flush = () => {
      this.flushing = undefined;
      for (const id of this.changed) {
        const socket = namespace.sockets.get(id);
        if (socket?.connected === true) persist(socket);
      }
      this.changed.clear();
    };
    const changed = (id: string) => {
      this.changed.add(id);
      this.flushing ??= setImmediate(flush);
    };
    const roomChanged = (_room: string, id: string) => changed(id);
    namespace.on('connection', (socket) => {
      changed(socket.id);
      socket.on('disconnect', onDisconnect);
    });
    namespace.adapter.on('join-room', roomChanged);
    namespace.adapter.on('leave-room', roomChanged);
    this.refresher = setInterval(() => {
      for (const socket of namespace.sockets.values()) persist(socket);
    }, Math.max(1000, this.windowMs / 2)).unref();
  }

  stop(): void {
    clearInterval(this.refresher);
    clearImmediate(this.flushing);
  }
}

/** Socket.IO keeps the private session id (what a client presents to recover) in a private field. */
function privateSessionId(socket: GatewaySocket): string {
  return (socket as unknown as { pid: string }).pid;
}
