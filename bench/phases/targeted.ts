import type { ClientPool } from '../lib/client-pool.js';
import { openCpuWindow } from '../lib/cpu-window.js';
import { nowMs } from '../lib/clock.js';
import type { BenchConfig } from '../lib/config.js';
import { HttpPublisher } from '../lib/http-publisher.js';
import { joinDetails, publishNote, type Row } from '../lib/report.js';
import { cpuPerProcess, cpuSplit, type SystemUnderTest } from '../lib/system.js';

/** The user id of targeted client `index` (each targeted client is its own user). */
export function targetedUser(index: number): string {
  return `user-${index}`;
}

/**
 * (b) and (d) Targeted publishes: `targetedPublishes` messages, each to one user (round-robin over the
 * `targetedUsers` connected clients), as fast as `targetedConcurrency` requests in flight allow, through
 * `system.publishTo`. Reports the server's CPU per publish (all its processes; its Redis apart), delivery
 * rate, latency from publish send to delivery, and loss.
 */
export async function measureTargeted(
  system: SystemUnderTest, scenario: string, pool: ClientPool, config: BenchConfig, seqBase: number,
): Promise<Row> {
  const publisher = new HttpPublisher(system.publishTo, config.targetedConcurrency);
  try {
    await publishAll(publisher, pool, config, seqBase, config.targetedWarmup);
    const measuredBase = seqBase + config.targetedWarmup;
    await system.probe?.start();
    const closeCpuWindow = openCpuWindow({ serverPids: system.serverPids, backingPids: system.backingPids, benchPids: pool.pids() });
    const { ok, startedAt } = await publishAll(publisher, pool, config, measuredBase, config.targetedPublishes);
    const cpu = closeCpuWindow();
    const probed = await system.probe?.finish(ok);
    const result = await pool.collect();
    const seconds = (result.lastDeliveryAt - startedAt) / 1000;
    return {
      scenario,
      server: system.label,
      cpuUs: cpu.serverUs / ok,
      perProcessCpuUs: cpuPerProcess(system, cpu.perServerUs, ok),
      backingCpuUs: system.backingPids.length > 0 ? cpu.backingUs / ok : undefined,
      msgsPerS: seconds > 0 ? result.received / seconds : undefined,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      lost: ok - result.received,
      duplicates: result.duplicates,
      hostBusy: cpu.hostBusy,
      otherBusy: cpu.otherBusy,
      note: publishNote(cpu.otherBusy, config.targetedPublishes - ok, publisher.failures, result.stale),
      detail: joinDetails(cpuSplit(system, cpu, ok), probed),
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
