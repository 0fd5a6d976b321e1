/**
 * Brute-force protection for logins: attempts are counted per key (`user:{name}`, `ip:{address}`) in a
 * fixed window that starts with the key's first attempt. An attempt is counted *before* the password is
 * checked (so parallel guesses cannot all pass a check made before any was counted) and forgiven when it
 * succeeds; a key over LOGIN_MAX_FAILURES is refused until its window ends. Memory (one node) and Redis
 * (shared by every node) implementations side by side.
 */
export interface LoginThrottle {
  /**
   * Counts one attempt against each key, atomically. Answers 0 when every key is within the limit (the
   * attempt may proceed), else the seconds until the most-blocked key's window ends.
   */
  take(keys: readonly string[]): Promise<number>;
  /** Un-counts a successful attempt (never below zero). */
  forgive(keys: readonly string[]): Promise<void>;
  /** Forgets a key's attempts (a username after a successful login). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface ThrottleLimits {
  readonly maxFailures: number;
  readonly windowMs: number;
}
