import { sleep } from './clock.js';
import { hostCpuMicros } from './proc-stats.js';
import type { Row } from './report.js';

/** Busy share of the machine below which it counts as quiet while the bench itself is idle. */
const QUIET_BELOW = 0.15;
/** A measurement disturbed by more outside load than this is retried. */
const RETRY_ABOVE = 0.1;

/**
 * Waits (at most `maxWaitMs`) until the machine is quiet over a 500 ms sample. Call it while the bench's
 * own processes are idle, so what is busy is someone else (a test run, a build). Returns false on timeout.
 */
export async function waitForQuietHost(maxWaitMs = 10_000): Promise<boolean> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const before = hostCpuMicros();
    await sleep(500);
    const after = hostCpuMicros();
    const total = after.total - before.total;
    if (total > 0 && (after.busy - before.busy) / total < QUIET_BELOW) return true;
    if (performance.now() >= deadline) return false;
  }
}

/**
 * Runs a measurement on a quiet machine; if other processes still disturbed it (`row.otherBusy`), runs
 * it again, up to `retries` times, and keeps the least disturbed row.
 */
export async function measureOnQuietHost(measure: () => Promise<Row>, log: (message: string) => void, retries = 2): Promise<Row> {
  let best: Row | undefined;
  for (let attempt = 0; attempt <= retries; attempt += 1) {
    if (!(await waitForQuietHost())) log('machine still busy with other work after 10 s; measuring anyway');
    const row = await measure();
    if (best === undefined || (row.otherBusy ?? 0) < (best.otherBusy ?? 0)) best = row;
    if ((row.otherBusy ?? 0) <= RETRY_ABOVE) break;
    if (attempt < retries) log(`${row.scenario} on ${row.server}: other load ${((row.otherBusy ?? 0) * 100).toFixed(0)}% of host, measuring again`);
  }
  if (best === undefined) throw new Error('no measurement');
  return best;
}
