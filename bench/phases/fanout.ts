import type { ClientPool } from '../lib/client-pool.js';
import { openCpuWindow } from '../lib/cpu-window.js';
import { nowMs, sleep } from '../lib/clock.js';
import type { BenchConfig, FanoutStep } from '../lib/config.js';
import { HttpPublisher } from '../lib/http-publisher.js';
import { joinDetails, publishNote, type Row } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { cpuPerProcess, cpuSplit, type SystemUnderTest } from '../lib/system.js';

/** Every fan-out client is user "fanout" (its own session), so each publish reaches the whole room. */
export const FANOUT_USER = 'fanout';

/**
 * (a) and (d) Broadcast fan-out: publishes to the one room every connected client is in, on a fixed
 * schedule, through `system.publishTo`, and reports the server's CPU per delivered message (all its
 * processes; its Redis apart), delivery rate, latency and loss. `step.roomSize` clients must already be
 * connected (to any node of `system`); `seqBase` must be above every seq used before on this pool.
 */
export async function measureFanout(
  system: SystemUnderTest, scenario: string, pool: ClientPool, config: BenchConfig, step: FanoutStep, seqBase: number,
): Promise<Row> {
  const publisher = new HttpPublisher(system.publishTo, 4);
  try {
    await publishAtRate(publisher, pool, config, step, seqBase, config.fanoutWarmup);
    const measuredBase = seqBase + config.fanoutWarmup;
    await system.probe?.start();
    publisher.takeAnswerTimes();
    const closeCpuWindow = openCpuWindow({ serverPids: system.serverPids, backingPids: system.backingPids, benchPids: pool.pids() });
    const { ok, startedAt } = await publishAtRate(publisher, pool, config, step, measuredBase, step.publishes);
    const cpu = closeCpuWindow();
    const probed = await system.probe?.finish(ok);
    const answered = summarize([publisher.takeAnswerTimes()]);
    const result = await pool.collect();
    const seconds = (result.lastDeliveryAt - startedAt) / 1000;
    const timeline = `p50 publish answered ${answered.p50.toFixed(2)} ms, first delivery ${result.firstDelivery.p50.toFixed(2)} ms`;
    return {
      scenario,
      server: system.label,
      cpuUs: cpu.serverUs / result.received,
      perProcessCpuUs: cpuPerProcess(system, cpu.perServerUs, result.received),
      backingCpuUs: system.backingPids.length > 0 ? cpu.backingUs / result.received : undefined,
      msgsPerS: seconds > 0 ? result.received / seconds : undefined,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      firstDeliveryMs: result.firstDelivery.p50,
      answeredMs: answered.p50,
      lost: ok * step.roomSize - result.received,
      duplicates: result.duplicates,
      hostBusy: cpu.hostBusy,
      otherBusy: cpu.otherBusy,
      note: publishNote(cpu.otherBusy, step.publishes - ok, publisher.failures, result.stale),
      detail: joinDetails(timeline, cpuSplit(system, cpu, result.received), probed),
    };
  } finally {
    publisher.close();
  }
}

/**
 * Resets the clients' counters, publishes `count` messages to the fan-out room on a fixed schedule
 * (not waiting for answers, so a slow server does not slow the schedule down), then waits for the
 * deliveries (bounded by the drain timeout).
 */
async function publishAtRate(
  publisher: HttpPublisher, pool: ClientPool, config: BenchConfig, step: FanoutStep, seqBase: number, count: number,
): Promise<{ ok: number; startedAt: number }> {
  await pool.reset(seqBase);
  const interval = 1000 / step.ratePerS;
  const startedAt = nowMs();
  const answers: Promise<boolean>[] = [];
  for (let k = 0; k < count; k += 1) {
    const wait = startedAt + k * interval - nowMs();
    if (wait > 0) await sleep(wait);
    answers.push(publisher.publish(FANOUT_USER, { seq: seqBase + k, t: nowMs() }));
  }
  const ok = (await Promise.all(answers)).filter(Boolean).length;
  await pool.waitForDeliveries(ok * step.roomSize, config.drainTimeoutMs);
  return { ok, startedAt };
}
