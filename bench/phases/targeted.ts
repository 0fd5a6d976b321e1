import type { ClientPool } from '../lib/client-pool.js';
import { openCpuWindow } from '../lib/cpu-window.js';
import { nowMs } from '../lib/clock.js';
import type { BenchConfig } from '../lib/config.js';
import { HttpPublisher } from '../lib/http-publisher.js';
import { publishNote, type Row } from '../lib/report.js';
import type { RunningServer } from '../lib/servers.js';

/** The user id of targeted client `index` (each targeted client is its own user). */
export function targetedUser(index: number): string {
  return `user-${index}`;
}

/**
 * (b) Targeted publishes: `targetedPublishes` messages, each to one user (round-robin over the
 * `targetedUsers` connected clients), as fast as `targetedConcurrency` requests in flight allow.
 * Reports server CPU per publish, delivery rate, latency from publish send to delivery, and loss.
 */
export async function measureTargeted(
  server: RunningServer, pool: ClientPool, config: BenchConfig, seqBase: number,
): Promise<Row> {
  const publisher = new HttpPublisher(server, config.targetedConcurrency);
  try {
    await publishAll(publisher, pool, config, seqBase, config.targetedWarmup);
    const measuredBase = seqBase + config.targetedWarmup;
    const closeCpuWindow = openCpuWindow(server.pid, pool.pids());
    const { ok, startedAt } = await publishAll(publisher, pool, config, measuredBase, config.targetedPublishes);
    const cpu = closeCpuWindow();
    const result = await pool.collect();
    const seconds = (result.lastDeliveryAt - startedAt) / 1000;
    return {
      scenario: `(b) targeted ${config.targetedUsers} users`,
      server: server.spec.name,
      cpuUs: cpu.serverUs / ok,
      msgsPerS: seconds > 0 ? result.received / seconds : undefined,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      lost: ok - result.received,
      duplicates: result.duplicates,
      hostBusy: cpu.hostBusy,
      otherBusy: cpu.otherBusy,
      note: publishNote(cpu.otherBusy, config.targetedPublishes - ok, publisher.failures, result.stale),
    };
  } finally {
    publisher.close();
  }
}

/** Resets the clients' counters, publishes `count` messages with bounded concurrency, waits for deliveries. */
async function publishAll(
  publisher: HttpPublisher, pool: ClientPool, config: BenchConfig, seqBase: number, count: number,
): Promise<{ ok: number; startedAt: number }> {
  await pool.reset(seqBase);
  const startedAt = nowMs();
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < count) {
      const seq = seqBase + next;
      const user = targetedUser(next % config.targetedUsers);
      next += 1;
      if (await publisher.publish(user, { seq, t: nowMs() })) ok += 1;
    }
  };
  await Promise.all(Array.from({ length: config.targetedConcurrency }, lane));
  await pool.waitForDeliveries(ok, config.drainTimeoutMs);
  return { ok, startedAt };
}
