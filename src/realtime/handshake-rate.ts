/** The handshake-rate limit of one client address: `perSecond` new connections, bursts up to `burst`. */
export interface HandshakeRateLimits {
  /** Handshakes per second one client address may start; 0 = no limit. */
  readonly perSecond: number;
  /** Handshakes an address may start at once after being quiet (the bucket's size). */
  readonly burst: number;
}

/** How often buckets that have filled up again are dropped. */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * A token bucket per client address: for new Engine.IO sessions (each may cost a JWT verification or an
 * introspection call), and for failed handshakes (`FailedHandshakes`). Nothing is kept for an address whose
 * bucket has filled up again: full buckets are dropped every few seconds, on the next `admit`, so the map
 * holds only addresses active lately; an `admit` refused creates nothing.
 */
export class HandshakeRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweptAt = Date.now();

  constructor(private readonly limits: HandshakeRateLimits) {}

  /** Takes one handshake from `address`'s bucket, or answers false when it is empty. */
  admit(address: string, now = Date.now()): boolean {
    if (this.limits.perSecond === 0) return true;
    if (now - this.sweptAt >= SWEEP_INTERVAL_MS) this.sweep(now);
    const bucket = this.buckets.get(address);
    const tokens = bucket === undefined ? this.limits.burst : this.refilled(bucket, now);
    if (tokens < 1) return false;
    this.buckets.set(address, { tokens: tokens - 1, at: now });
    return true;
  }

  /** Whether `address`'s bucket holds a token, without taking it. */
  has(address: string, now = Date.now()): boolean {
    if (this.limits.perSecond === 0) return true;
    const bucket = this.buckets.get(address);
    return bucket === undefined || this.refilled(bucket, now) >= 1;
  }

  /** Addresses with a bucket that is not full (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limits.perSecond);
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [address, bucket] of this.buckets) {
      if (this.refilled(bucket, now) >= this.limits.burst) this.buckets.delete(address);
    }
  }
}
