import { Agent, request } from 'node:http';
import type { ClientPool } from '../lib/client-pool.js';
import { nowMs, sleep } from '../lib/clock.js';
import type { BenchConfig } from '../lib/config.js';
import { openCpuWindow } from '../lib/cpu-window.js';
import { writeSyscalls } from '../lib/proc-stats.js';
import { publishNote, type Row } from '../lib/report.js';
import type { RunningServer } from '../lib/servers.js';
import { API_KEY } from '../lib/tokens.js';
import { FANOUT_USER } from './fanout.js';

/** How the messages of one burst are sent: one `POST /v1/batch`, or one `POST /v1/publish` each, all at once. */
export type BatchMode = 'batch' | 'one by one';

/** The scenario name of an (f) row, e.g. "(f) 100 msgs to 2000, batch". */
export function batchScenario(roomSize: number, perBurst: number, mode: BatchMode): string {
  return `(f) ${perBurst} msgs to ${roomSize}, ${mode}`;
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * (f) Switchboard only (neither baseline has a batch route): `config.batch.bursts` bursts of
 * `config.batch.perBurst` messages to the one room every connected client is in (the fan-out user's
 * room), a second apart, sent as one `POST /v1/batch` or as that many `POST /v1/publish` at once. Reports
 * the server's CPU and its write system calls per delivered message: about one per delivery means every
 * frame went out in its own syscall; well under one, that frames to one socket were coalesced.
 */
export async function measureBatch(server: RunningServer, pool: ClientPool, config: BenchConfig, seqBase: number, mode: BatchMode): Promise<Row> {
  const { bursts, perBurst, roomSize } = config.batch;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const failures: string[] = [];
  try {
    await pool.reset(seqBase);
    const closeCpuWindow = openCpuWindow({ serverPids: [server.pid], benchPids: pool.pids() });
    const syscalls0 = writeSyscalls(server.pid);
    let ok = 0;
    const startedAt = nowMs();
    for (let burst = 0; burst < bursts; burst += 1) {
      const items = Array.from({ length: perBurst }, (_, k) => ({ event: 'bench', data: { seq: seqBase + burst * perBurst + k, t: nowMs() }, users: [FANOUT_USER] }));
      if (mode === 'batch') {
        if (await post(agent, server.port, '/v1/batch', items, failures)) ok += items.length;
      } else {
        ok += (await Promise.all(items.map((item) => post(agent, server.port, '/v1/publish', item, failures)))).filter(Boolean).length;
      }
      await pool.waitForDeliveries(ok * roomSize, config.drainTimeoutMs);
      if (burst + 1 < bursts) await sleep(1000);
    }
    const syscalls = writeSyscalls(server.pid) - syscalls0;
    const cpu = closeCpuWindow();
    const result = await pool.collect();
    return {
      scenario: batchScenario(roomSize, perBurst, mode),
      server: 'switchboard',
      cpuUs: cpu.serverUs / result.received,
      msgsPerS: undefined,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      lost: ok * roomSize - result.received,
      duplicates: result.duplicates,
      hostBusy: cpu.hostBusy,
      otherBusy: cpu.otherBusy,
      note: publishNote(cpu.otherBusy, bursts * perBurst - ok, failures, result.stale),
      detail: `write syscalls per delivery ${(syscalls / Math.max(1, result.received)).toFixed(3)}; ${bursts} bursts, ${((nowMs() - startedAt) / 1000).toFixed(1)} s`,
    };
  } finally {
    agent.destroy();
  }
}

/** POSTs `body` as JSON with the bench's API key; resolves true on a 2xx answer (never rejects). */
function post(agent: Agent, port: number, path: string, body: unknown, failures: string[]): Promise<boolean> {
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    const fail = (reason: string) => {
      if (failures.length < 5) failures.push(reason);
      resolve(false);
    };
    const req = request({
      host: '127.0.0.1', port, path, method: 'POST', agent, timeout: REQUEST_TIMEOUT_MS,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
    }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      res.once('end', () => (status >= 200 && status < 300 ? resolve(true) : fail(`HTTP ${status}`)));
      res.once('error', (error) => fail(error.message));
    });
    req.once('timeout', () => req.destroy(new Error('request timed out')));
    req.once('error', (error) => fail(error.message));
    req.end(text);
  });
}
