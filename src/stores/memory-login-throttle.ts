import type { LoginThrottle, ThrottleLimits } from './login-throttle.js';

interface Window {
  attempts: number;
  endsAt: number;
}

/** Past this many keys, expired windows are swept (at most once a second), so rotating IPs cannot grow it for long. */
const SWEEP_ABOVE = 10_000;
const SWEEP_EVERY_MS = 1000;

/** The login throttle of one node (memory engine): a map of fixed windows. JavaScript runs each call atomically. */
export class MemoryLoginThrottle implements LoginThrottle {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(private readonly limits: ThrottleLimits, private readonly now: () => number = Date.now) {}

  async take(keys: readonly string[]): Promise<number> {
    const now = this.now();
    if (this.windows.size > SWEEP_ABOVE && now - this.lastSweep > SWEEP_EVERY_MS) this.sweep(now);
    let waitMs = 0;
    for (const key of keys) {
      let window = this.current(key, now);
      if (window === undefined) this.windows.set(key, (window = { attempts: 0, endsAt: now + this.limits.windowMs }));
      window.attempts += 1;
      if (window.attempts > this.limits.maxFailures) waitMs = Math.max(waitMs, window.endsAt - now);
    }
    return Math.ceil(waitMs / 1000);
  }

  async forgive(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const window = this.windows.get(key);
      if (window !== undefined && window.attempts > 0) window.attempts -= 1;
    }
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  private current(key: string, now: number): Window | undefined {
    const window = this.windows.get(key);
    if (window === undefined || window.endsAt > now) return window;
    this.windows.delete(key);
    return undefined;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
