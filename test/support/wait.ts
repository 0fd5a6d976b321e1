/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 25 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
  /** Stops the wait at once, failing with the signal's reason (e.g. the process being waited for exited). */
  signal?: AbortSignal;
}

/**
 * Polls `check` until it passes and resolves with what it returned. It passes when it returns anything but
 * `false` without throwing, so it takes both a condition (`() => got.length >= 5`) and an assertion
 * (`() => expect(got).toHaveLength(5)`). After `timeoutMs` it fails with the assertion's last error, or an
 * error naming `what`. Test support for test/ and bench/: no vitest in here.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, false>> {
  const { timeoutMs = 5000, intervalMs = 25, what = 'the condition', signal } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    let lastError: unknown;
    try {
      const result = await check();
      if (result !== false) return result as Exclude<T, false>;
    } catch (error) {
      lastError = error;
    }
    signal?.throwIfAborted();
    if (Date.now() > deadline) {
      if (lastError !== undefined) throw lastError;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}
