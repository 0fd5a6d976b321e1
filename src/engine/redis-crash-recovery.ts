import type { Redis } from 'ioredis';
import type { GatewayNamespace, GatewaySocket } from '../protocol/socket-types.js';

/** Why a socket left for good: Socket.IO keeps no recovery session for these, and neither do we. */
const DELIBERATE_DISCONNECTS: ReadonlySet<string> = new Set(['client namespace disconnect', 'server namespace disconnect']);

/**
 * Makes connection-state recovery survive a crashed node. Socket.IO writes a socket's recovery session
 * only when the socket disconnects, on its own node — a node killed with SIGKILL writes none, and its
 * clients could not recover on a survivor. So every socket's session is written to Redis (through the
 * adapter's own `persistSession`, same key and TTL) when it connects and again every half window while it
 * stays; a graceful disconnect overwrites it as usual, a deliberate one deletes it.
 */
export class CrashRecovery {
  private refresher: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Redis,
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
    namespace.on('connection', (socket) => {
      persist(socket);
      socket.on('disconnect', onDisconnect);
    });
    this.refresher = setInterval(() => {
      for (const socket of namespace.sockets.values()) persist(socket);
    }, Math.max(1000, this.windowMs / 2)).unref();
  }

  stop(): void {
    clearInterval(this.refresher);
  }
}

/** Socket.IO keeps the private session id (what a client presents to recover) in a private field. */
function privateSessionId(socket: GatewaySocket): string {
  return (socket as unknown as { pid: string }).pid;
}
