import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { ADVISORY_PACKETS, oversizedFrame } from './support/fuzz-corpus.js';
import { feed, feedCorpus } from './support/fuzz-feed.js';
import { sleep, waitFor } from './support/wait.js';

/**
 * `npm run fuzz`: the hostile-input corpus of test/hostile-input.test.ts, longer, against a gateway process
 * (`node --import tsx src/main.ts`, production settings). Exits 1 when the gateway exits, stops answering
 * `/readyz`, refuses a new client, or its RSS grows more than FUZZ_MAX_RSS_GROWTH_MB over the run.
 * FUZZ_PACKETS (default 1,000,000) and FUZZ_SEED (default: random, printed) replay a run.
 */
const PACKETS = Number(process.env.FUZZ_PACKETS ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MAX_RSS_GROWTH_MB = Number(process.env.FUZZ_MAX_RSS_GROWTH_MB ?? 256);
const SECRET = 'fuzz-jwt-secret-0c4d1f7e9b2a6c83';
const ROOT = resolve(import.meta.dirname, '..');

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN) / 1024;
}

async function main(): Promise<void> {
  const cwd = mkdtempSync(join(tmpdir(), 'switchboard-fuzz-'));
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'src/main.ts')], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'production',
      LOG_LEVEL: 'info', API_KEYS: 'fuzz-api-key-7a1b', JWT_SECRET: SECRET, CLIENT_EVENTS_PER_SECOND: '100000', CONNECTIONS_PER_IP_PER_S: '0', MAX_CONNECTIONS_PER_USER: '0',
      // One address failing handshakes by the thousand: the failed-handshake limits would soon refuse every one.
      MAX_FAILED_HANDSHAKES_PER_CONNECTION: '0', FAILED_HANDSHAKES_PER_IP_PER_MIN: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Only the end is kept: a long run logs many lines (sampled, but over many windows).
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-65_536));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = false;
  child.once('exit', () => (exited = true));
  const fail = (reason: string): never => {
    console.error(`FUZZ FAILED (seed ${SEED}): ${reason}\n--- gateway output (last 4 KB) ---\n${output.slice(-4096)}`);
    child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
    process.exit(1);
  };
  try {
    const port = await waitFor(() => /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(output)?.[1] ?? false, { timeoutMs: 20_000 });
    const url = `http://127.0.0.1:${port}`;
    const token = await new SignJWT({ user_id: 'fuzzer', session_id: 'fuzz' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('2h').sign(new TextEncoder().encode(SECRET));
    const alive = async () => {
      if (exited) fail(`the gateway exited (${child.exitCode ?? child.signalCode})`);
      const status = await fetch(`${url}/readyz`).then((response) => response.status, () => 0);
      if (status !== 200) fail(`/readyz answered ${status}`);
    };

    console.log(`fuzzing ${url} with ${PACKETS} packets, seed ${SEED}`);
    await feedCorpus(url, { token, packets: 5000, batch: 50, concurrency: 8, seed: SEED });
    const baseline = rssMiB(child.pid!);
    for (const transport of ['websocket', 'polling'] as const) {
      for (const frames of [...ADVISORY_PACKETS, [oversizedFrame(1_048_576)]]) {
        await feed(url, transport, frames, token);
        await feed(url, transport, frames);
      }
    }
    const started = Date.now();
    let reported = 0;
    const result = await feedCorpus(url, {
      token, packets: PACKETS, batch: 50, concurrency: 8, seed: SEED + 1,
      progress: (sent) => {
        if (sent - reported < 100_000) return;
        reported = sent;
        if (exited) fail(`the gateway exited (${child.exitCode ?? child.signalCode}) after ${sent} packets`);
        console.log(`${sent} packets, ${Math.round((Date.now() - started) / 1000)} s, gateway RSS ${rssMiB(child.pid!).toFixed(0)} MiB`);
      },
    });
    await alive();
    await sleep(2000);
    const growth = rssMiB(child.pid!) - baseline;
    console.log(`${result.sent} packets on ${result.connections} connections in ${Math.round((Date.now() - started) / 1000)} s; RSS ${baseline.toFixed(0)} → ${(baseline + growth).toFixed(0)} MiB`);
    if (growth > MAX_RSS_GROWTH_MB) fail(`RSS grew by ${growth.toFixed(0)} MiB (bound ${MAX_RSS_GROWTH_MB})`);
    await alive();
    // A client that behaves is still served.
    const client = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    const connected = await new Promise<boolean>((done) => {
      client.once('connect', () => done(true));
      client.once('connect_error', () => done(false));
    });
    client.close();
    if (!connected) fail('a new stock client could not connect');
    console.log('fuzz passed');
    child.kill('SIGTERM');
    rmSync(cwd, { recursive: true, force: true });
  } catch (error) {
    fail(String(error));
  }
}

await main();
