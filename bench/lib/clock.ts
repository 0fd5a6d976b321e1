/**
 * Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine:
 * publish timestamps are taken in the parent and compared in the client workers.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
