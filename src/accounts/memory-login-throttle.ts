import type { LoginThrottle, ThrottleLimits } from './login-throttle.js';

interface Window {
  failures: number;
  endsAt: number;
}

/** Largest number of keys kept; past it, expired windows are swept (an attacker rotating IPs cannot grow it unboundedly fast). */
const SWEEP_ABOVE = 10_000;

/** The login throttle of one node (memory engine): a map of fixed windows. */
export class MemoryLoginThrottle implements LoginThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly limits: ThrottleLimits, private readonly now: () => number = Date.now) {}

  async blockedFor(keys: readonly string[]): Promise<number> {
    const now = this.now();
    let waitMs = 0;
    for (const key of keys) {
      const window = this.current(key, now);
      if (window !== undefined && window.failures >= this.limits.maxFailures) waitMs = Math.max(waitMs, window.endsAt - now);
    }
    return Math.ceil(waitMs / 1000);
  }

  async recordFailure(keys: readonly string[]): Promise<void> {
    const now = this.now();
    if (this.windows.size > SWEEP_ABOVE) this.sweep(now);
    for (const key of keys) {
      const window = this.current(key, now);
      if (window === undefined) this.windows.set(key, { failures: 1, endsAt: now + this.limits.windowMs });
      else window.failures += 1;
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
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
