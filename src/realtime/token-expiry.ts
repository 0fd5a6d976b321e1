import type { GatewaySocket } from '../protocol/socket-types.js';

const TICK_MS = 1000;

/**
 * Keeps a socket connected only while its token is valid. When `expiresAt` passes, the socket gets
 * `auth:expired` `{ expiredAt, graceMs }` and is disconnected `graceMs` later unless `auth:refresh` gave it a
 * new expiry first.
 *
 * One schedule for all sockets, not a timer each (a timer costs ~150 bytes per connection): sockets are
 * kept in buckets by expiry second and one interval, running only while something is watched, checks
 * them once a second. Only sockets already told `auth:expired` get a timer of their own, for the grace.
 */
export class TokenExpiryWatch {
  private readonly buckets = new Map<number, Set<GatewaySocket>>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly graceMs: number) {}

  /** Starts watching a socket by `socket.data.expiresAt` (no-op for tokens without `exp`). */
  watch(socket: GatewaySocket): void {
    const { expiresAt } = socket.data;
    // A refresh can finish after its socket left: watching it then would keep the dead socket alive.
    if (expiresAt === undefined || !socket.connected) return;
    const second = Math.floor(expiresAt / 1000);
    let bucket = this.buckets.get(second);
    if (bucket === undefined) this.buckets.set(second, (bucket = new Set()));
    bucket.add(socket);
    this.ticker ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  /** Stops watching (on disconnect, and before a refresh moves the expiry). */
  unwatch(socket: GatewaySocket): void {
    const grace = this.graceTimers.get(socket.id);
    if (grace !== undefined) {
      clearTimeout(grace);
      this.graceTimers.delete(socket.id);
    }
    const { expiresAt } = socket.data;
    if (expiresAt === undefined) return;
    const second = Math.floor(expiresAt / 1000);
    const bucket = this.buckets.get(second);
    if (bucket?.delete(socket) === true && bucket.size === 0) this.buckets.delete(second);
    this.stopIfIdle();
  }

  /** Moves a socket to a new expiry after a successful `auth:refresh`. */
  update(socket: GatewaySocket, expiresAt: number | undefined): void {
    this.unwatch(socket);
    socket.data.expiresAt = expiresAt;
    this.watch(socket);
  }

  private tick(): void {
    const now = Date.now();
    for (const [second, bucket] of this.buckets) {
      if (second * 1000 > now) continue;
      this.buckets.delete(second);
      for (const socket of bucket) this.expired(socket);
    }
    this.stopIfIdle();
  }

  private expired(socket: GatewaySocket): void {
    if (!socket.connected) return;
    socket.emit('auth:expired', { expiredAt: socket.data.expiresAt, graceMs: this.graceMs });
    const timer = setTimeout(() => {
      this.graceTimers.delete(socket.id);
      socket.disconnect(true);
    }, this.graceMs);
    this.graceTimers.set(socket.id, timer.unref());
  }

  private stopIfIdle(): void {
    if (this.ticker !== undefined && this.buckets.size === 0) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
