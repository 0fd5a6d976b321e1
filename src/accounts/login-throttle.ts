/**
 * Brute-force protection for logins: failures are counted per key (`user:{name}`, `ip:{address}`) in a
 * fixed window; a key with LOGIN_MAX_FAILURES failures is blocked until its window ends. Memory (one node)
 * and Redis (shared by every node) implementations side by side.
 */
export interface LoginThrottle {
  /** Seconds until the most-blocked of `keys` may try again; 0 when none is blocked. */
  blockedFor(keys: readonly string[]): Promise<number>;
  /** Counts one failure against each key (the first failure starts the key's window). */
  recordFailure(keys: readonly string[]): Promise<void>;
  /** Forgets a key's failures (a username after a successful login). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface ThrottleLimits {
  readonly maxFailures: number;
  readonly windowMs: number;
}
