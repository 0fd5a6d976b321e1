import type { GatewaySocket } from '../types/socket.js';

/** Node's setTimeout cannot wait longer than this (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keeps a socket connected only while its token is valid. When `expiresAt` passes, the socket gets
 * `auth:expired` `{ expiredAt, graceMs }` and is disconnected `graceMs` later unless `auth:refresh` gave it a
 * new expiry first. One timer per socket with an expiring token, cleared on disconnect.
 */
export class TokenExpiryWatch {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly graceMs: number) {}

  /** Arms (or re-arms, after a refresh) the expiry timer of a socket from `socket.data.expiresAt`. */
  watch(socket: GatewaySocket): void {
    this.clear(socket.id);
    const { expiresAt } = socket.data;
    // A refresh can finish after its socket left: arming a timer then would keep the dead socket alive.
    if (expiresAt === undefined || !socket.connected) return;
    this.arm(socket, expiresAt);
  }

  clear(socketId: string): void {
    const timer = this.timers.get(socketId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(socketId);
  }

  get watched(): number {
    return this.timers.size;
  }

  private arm(socket: GatewaySocket, expiresAt: number): void {
    const wait = expiresAt - Date.now();
    if (wait > MAX_TIMER_MS) {
      this.timers.set(socket.id, setTimeout(() => this.arm(socket, expiresAt), MAX_TIMER_MS).unref());
      return;
    }
    const timer = setTimeout(() => this.expired(socket, expiresAt), Math.max(0, wait));
    this.timers.set(socket.id, timer.unref());
  }

  private expired(socket: GatewaySocket, expiresAt: number): void {
    socket.emit('auth:expired', { expiredAt: expiresAt, graceMs: this.graceMs });
    const timer = setTimeout(() => {
      this.timers.delete(socket.id);
      socket.disconnect(true);
    }, this.graceMs);
    this.timers.set(socket.id, timer.unref());
  }
}
