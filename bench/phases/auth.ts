import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { hashPassword, verifyPassword } from '../../src/auth-service/passwords.js';
import { SqliteAccountStore } from '../../src/stores/sqlite-account-store.js';
import { sleep } from '../lib/clock.js';
import {
  handshakeScenario, LOGIN_KINDS, loginScenario, refreshScenario, type BenchConfig, type LoginKind,
} from '../lib/config.js';
import { openCpuWindow, type CpuUsage } from '../lib/cpu-window.js';
import { waitForQuietHost } from '../lib/quiet-host.js';
import { joinDetails, type Row } from '../lib/report.js';
import { switchboardWithAuthService, type RunningServer, type ServerSpec } from '../lib/servers.js';
import { percentile, summarize } from '../lib/stats.js';

/** The user the bench logs in as, added to the store before the servers start. */
const USER = 'bench-alice';
const PASSWORD = 'bench-password-correct-horse';
/** Same length as {@link PASSWORD}: argon2's work does not depend on it, but nothing else differs either. */
const WRONG_PASSWORD = 'bench-password-wrong-horse!!';
const UNKNOWN_USER = 'bench-nobody';

const LOGIN_BODY: Record<LoginKind, string> = {
  right: JSON.stringify({ username: USER, password: PASSWORD }),
  wrong: JSON.stringify({ username: USER, password: WRONG_PASSWORD }),
  unknown: JSON.stringify({ username: UNKNOWN_USER, password: PASSWORD }),
};
const EXPECTED_STATUS: Record<LoginKind, number> = { right: 200, wrong: 401, unknown: 401 };

/** Sequential logins come in blocks of this many of one kind (each block a CPU window of ~60 ms). */
const SEQUENTIAL_BLOCK = 5;
const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** How long to wait for the "gateway listening" log line (with the auth URL) after /readyz answered. */
const AUTH_URL_TIMEOUT_MS = 5000;
/** Other processes above this share of the machine during a window put a warning in the row's note. */
const OTHER_LOAD_WARNING = 0.05;

/** What phase (e) needs from the runner. */
export interface AuthRunner {
  readonly config: BenchConfig;
  /** The bench's own processes besides this one (client workers), so their CPU is not "other load". */
  readonly benchPids: () => number[];
  /** Starts a server from `spec`, runs `measure`, stops it; a failure becomes a row with the reason. */
  readonly onServer: (spec: ServerSpec, label: string, measure: (server: RunningServer) => Promise<Row[]>) => Promise<Row[]>;
  readonly log: (message: string) => void;
}

/** What (e) adds to the report: its rows and the argon2id reference for the summary. */
export interface AuthResult {
  readonly rows: Row[];
  readonly argon2: Argon2Reference | undefined;
}

/** argon2id verifications timed in the bench process (src/auth-service/passwords.ts, the service's parameters). */
export interface Argon2Reference {
  readonly count: number;
  readonly p50Ms: number;
  /** Process CPU (all threads) per verification, µs. */
  readonly cpuUs: number;
}

/**
 * (e) Switchboard's auth service (src/auth-service/), on Switchboard only (no baseline ships one). A temporary
 * DATA_DIR gets one user (argon2id hash, through the SQLite store itself); then fresh server processes share it:
 * 1. One server, TOKEN_STATE_CHECK off: `POST /login` with the right password, a wrong one and an unknown
 *    user, one at a time (short blocks of one kind, in the repeating order right, wrong, unknown, unknown,
 *    wrong, right, so a drift hits all kinds alike), then `concurrency` at a time (the kinds mixed); then `POST /token` refresh
 *    chains, one, then `concurrency` at once. Latency, server CPU per request, requests/s.
 * 2. Two servers side by side, TOKEN_STATE_CHECK off and on: stock socket.io-client handshakes (WebSocket
 *    transport) with the service's access tokens, one at a time, alternating between the two servers so both
 *    see the same machine: each with a session of its own (with the check: one store read each), then all
 *    with one session (the check's answer cached).
 * Before the servers, the bench times argon2id verifications itself, for the summary's "login is argon2".
 */
export async function measureAuthService(runner: AuthRunner): Promise<AuthResult> {
  const { config, log } = runner;
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-auth-'));
  try {
    log(`(e) argon2id reference and user ${USER} in ${dataDir}`);
    const passwordHash = await hashPassword(PASSWORD);
    await quiet(runner);
    const argon2 = await timeArgon2(passwordHash, config.auth.argon2Verifies);
    const store = new SqliteAccountStore(dataDir);
    try {
      await store.addUser({ username: USER, passwordHash, role: 'user', permissions: [] }, Date.now());
    } finally {
      await store.close();
    }
    // Access tokens of sessions nobody refreshes or logs out, for the handshakes (filled by the logins).
    const sessions: string[] = [];
    const rows = await runner.onServer(switchboardWithAuthService(dataDir, false), '(e) login + refresh',
      (server) => measureLoginAndRefresh(server, runner, sessions));
    // Both servers at once on the one store (WAL: like the users CLI next to a gateway); a failure of the
    // second is its row, a failure of the first covers both.
    rows.push(...await runner.onServer(switchboardWithAuthService(dataDir, false), '(e) handshakes, state check off',
      (off) => runner.onServer(switchboardWithAuthService(dataDir, true), '(e) handshakes, state check on',
        (on) => measureHandshakes(off, on, runner, sessions))));
    return { rows, argon2 };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Step 1: logins (sequential, concurrent), then refreshes (sequential, concurrent). */
async function measureLoginAndRefresh(server: RunningServer, runner: AuthRunner, sessions: string[]): Promise<Row[]> {
  const { config, log } = runner;
  const { concurrency } = config.auth;
  const client = new AuthClient(await authUrlOf(server), concurrency);
  try {
    const rows: Row[] = [];
    log(`switchboard: (e) login warm-up, ${config.auth.loginWarmup} of each kind`);
    for (let i = 0; i < config.auth.loginWarmup; i += 1) {
      for (const kind of LOGIN_KINDS) await client.login(kind);
    }
    log(`switchboard: (e) ${config.auth.loginsSequential} logins of each kind, sequential`);
    rows.push(...await attempt(LOGIN_KINDS.map((kind) => loginScenario(kind, 1)),
      () => loginsSequential(server, runner, client, sessions)));
    log(`switchboard: (e) ${config.auth.loginsConcurrent} logins of each kind, ${concurrency} concurrent`);
    rows.push(...await attempt(LOGIN_KINDS.map((kind) => loginScenario(kind, concurrency)),
      () => loginsConcurrent(server, runner, client, sessions)));
    // The handshakes need a session each (uncounted logins), made here so the handshake servers start alike.
    await topUpSessions(client, runner, sessions).catch((error: unknown) => log(`switchboard: (e) more logins failed: ${String(error)}`));
    for (const lanes of [1, concurrency]) {
      log(`switchboard: (e) ${config.auth.refreshes} refreshes, ${lanes === 1 ? 'sequential' : `${lanes} concurrent`}`);
      rows.push(...await attempt([refreshScenario(lanes)], async () => [await refreshes(server, runner, client, lanes)]));
    }
    return rows;
  } finally {
    client.close();
  }
}

/** What one kind of request collected over the windows of a measurement. */
class Tally {
  /** What the note counts: "requests" or "handshakes". */
  constructor(private readonly unit = 'requests') {}

  readonly times: number[] = [];
  cpuUs = 0;
  wallMs = 0;
  failed = 0;
  readonly failures: string[] = [];
  /** Host and other-load CPU shares, weighted by window length (ms). */
  private busyMs = 0;
  private otherMs = 0;

  record(answer: Answer, expected: number): boolean {
    if (answer.status === expected) {
      this.times.push(answer.ms);
      return true;
    }
    this.failed += 1;
    if (this.failures.length < 3) this.failures.push(`${answer.status === 0 ? '' : `HTTP ${answer.status} `}${answer.body.slice(0, 120)}`);
    return false;
  }

  /** Adds a measurement window: its length, its host load and the server CPU (`serverUs`: one server's share). */
  addWindow(cpu: CpuUsage, ms: number, serverUs = cpu.serverUs): void {
    this.cpuUs += serverUs;
    this.wallMs += ms;
    this.busyMs += cpu.hostBusy * ms;
    this.otherMs += cpu.otherBusy * ms;
  }

  /** The row: CPU per request, requests/s over the windows, latency, host load weighted by window length. */
  row(scenario: string, extraNote?: string): Row {
    const done = this.times.length + this.failed;
    if (this.times.length === 0) throw new Error(`${scenario}: every request failed (${this.failures[0] ?? '?'})`);
    const latency = summarize([Float64Array.from(this.times)]);
    const hostBusy = this.wallMs > 0 ? this.busyMs / this.wallMs : 0;
    const otherBusy = this.wallMs > 0 ? this.otherMs / this.wallMs : 0;
    return {
      scenario,
      server: 'switchboard',
      cpuUs: this.cpuUs / done,
      msgsPerS: this.wallMs > 0 ? (done * 1000) / this.wallMs : undefined,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      hostBusy,
      otherBusy,
      note: joinDetails(
        `${done} ${this.unit}`,
        extraNote,
        otherBusy > OTHER_LOAD_WARNING ? `other load ${(otherBusy * 100).toFixed(0)}% of host` : undefined,
        this.failed > 0 ? `${this.failed} failed (${this.failures[0] ?? '?'})` : undefined,
      ),
    };
  }
}

/**
 * Logins one at a time, in short blocks of one kind (`SEQUENTIAL_BLOCK` requests) in the repeating order
 * right, wrong, unknown, unknown, wrong, right, so the machine's drift (a VM's neighbours, frequency) hits
 * every kind alike. Each block is a CPU window: server CPU read around single requests is off by whole
 * clock ticks, and work a request leaves behind (a GC) is charged to the next one, mostly of the same kind.
 * The requests/s column is 1 / mean latency.
 */
async function loginsSequential(server: RunningServer, runner: AuthRunner, client: AuthClient, sessions: string[]): Promise<Row[]> {
  const perKind = runner.config.auth.loginsSequential;
  const tallies = tallyPerKind();
  const pattern = [...LOGIN_KINDS, ...[...LOGIN_KINDS].reverse()];
  const sent = (kind: LoginKind) => tallies[kind].times.length + tallies[kind].failed;
  await quiet(runner);
  for (let b = 0; LOGIN_KINDS.some((kind) => sent(kind) < perKind); b += 1) {
    const kind = pattern[b % pattern.length] as LoginKind;
    const tally = tallies[kind];
    const count = Math.min(SEQUENTIAL_BLOCK, perKind - sent(kind));
    if (count <= 0) continue;
    const closeCpuWindow = openCpuWindow({ serverPids: [server.pid], benchPids: runner.benchPids() });
    let ms = 0;
    for (let i = 0; i < count; i += 1) {
      const answer = await client.login(kind);
      ms += answer.ms;
      if (tally.record(answer, EXPECTED_STATUS[kind]) && kind === 'right') keepSession(sessions, answer);
    }
    tally.addWindow(closeCpuWindow(), ms);
  }
  return loginRows(tallies, 1);
}

/**
 * Logins `concurrency` at a time, the three kinds mixed (request n is kind n mod 3, whichever lane sends
 * it), so each kind meets the same queue: that is what makes their latencies comparable on a saturated
 * machine. One CPU window: each row's CPU per request is the mix's average (the sequential rows have
 * per-kind CPU); its requests/s is its kind's share of the throughput.
 */
async function loginsConcurrent(server: RunningServer, runner: AuthRunner, client: AuthClient, sessions: string[]): Promise<Row[]> {
  const { concurrency, loginsConcurrent: perKind } = runner.config.auth;
  const tallies = tallyPerKind();
  let sent = 0;
  await quiet(runner);
  const closeCpuWindow = openCpuWindow({ serverPids: [server.pid], benchPids: runner.benchPids() });
  const started = performance.now();
  await lanes(concurrency, perKind * LOGIN_KINDS.length, async () => {
    const kind = LOGIN_KINDS[sent++ % LOGIN_KINDS.length] as LoginKind;
    const answer = await client.login(kind);
    if (tallies[kind].record(answer, EXPECTED_STATUS[kind]) && kind === 'right') keepSession(sessions, answer);
  });
  const ms = performance.now() - started;
  const cpu = closeCpuWindow();
  for (const kind of LOGIN_KINDS) tallies[kind].addWindow(cpu, ms, cpu.serverUs / LOGIN_KINDS.length);
  return loginRows(tallies, concurrency, `kinds mixed: msgs/s is this kind's share, CPU the mix's average`);
}

/** A row per kind; the unknown user's note gives its p50 ÷ the wrong password's. */
function loginRows(tallies: Record<LoginKind, Tally>, concurrency: number, note?: string): Row[] {
  const wrong = tallies.wrong.times.length > 0 ? summarize([Float64Array.from(tallies.wrong.times)]).p50 : undefined;
  return LOGIN_KINDS.map((kind) => {
    const unknownP50 = kind === 'unknown' && wrong !== undefined && tallies.unknown.times.length > 0
      ? summarize([Float64Array.from(tallies.unknown.times)]).p50 : undefined;
    const ratio = unknownP50 === undefined || wrong === undefined ? undefined : `p50 ÷ wrong password ${(unknownP50 / wrong).toFixed(2)}×`;
    return tallies[kind].row(loginScenario(kind, concurrency), joinDetails(note, ratio));
  });
}

/**
 * Refresh rotation: `lanes` chains (each a session of its own, from a login before the window), each
 * refresh spending the previous answer's refresh token; `refreshWarmup` uncounted ones first.
 */
async function refreshes(server: RunningServer, runner: AuthRunner, client: AuthClient, laneCount: number): Promise<Row> {
  const { refreshes: count, refreshWarmup } = runner.config.auth;
  const chains: string[] = [];
  for (let i = 0; i < laneCount; i += 1) {
    const answer = await client.login('right');
    if (answer.status !== 200) throw new Error(`login for a refresh chain answered HTTP ${answer.status} ${answer.body.slice(0, 120)}`);
    chains.push(tokensOf(answer).refreshToken);
  }
  const tally = new Tally();
  // Each lane keeps to its own chain: a chain's refreshes never overlap (that would be reuse, and revoke it).
  const run = (total: number, counted: boolean) => lanes(laneCount, total, async (lane) => {
    const answer = await client.refresh(chains[lane] as string);
    if (answer.status !== 200) throw new Error(`refresh answered HTTP ${answer.status} ${answer.body.slice(0, 160)}`);
    chains[lane] = tokensOf(answer).refreshToken;
    if (counted) tally.record(answer, 200);
  });
  await run(refreshWarmup, false);
  await quiet(runner);
  const closeCpuWindow = openCpuWindow({ serverPids: [server.pid], benchPids: runner.benchPids() });
  const started = performance.now();
  await run(count, true);
  const ms = performance.now() - started;
  tally.addWindow(closeCpuWindow(), ms);
  return tally.row(refreshScenario(laneCount));
}

/** Logs in until `sessions` holds an access token for every handshake (warm-up and counted), uncounted. */
async function topUpSessions(client: AuthClient, runner: AuthRunner, sessions: string[]): Promise<void> {
  const missing = runner.config.auth.handshakeWarmup + runner.config.auth.handshakes - sessions.length;
  if (missing <= 0) return;
  runner.log(`switchboard: (e) ${missing} more logins for the handshakes`);
  await lanes(runner.config.auth.concurrency, missing, async () => {
    const answer = await client.login('right');
    if (answer.status !== 200) throw new Error(`login answered HTTP ${answer.status} ${answer.body.slice(0, 120)}`);
    keepSession(sessions, answer);
  });
}

/**
 * Step 2: `handshakes` stock socket.io-client connections (WebSocket transport, no reconnection) to each of
 * the two servers, one at a time, alternating off, on, on, off, … (so neither always goes first), each held
 * open until the row is done: first each with a session of its own (with the check, each is a store read),
 * then all with one session (with the check, cached after the first). Latency is io() → 'connect'; server
 * CPU per handshake over the window, each server's own.
 */
async function measureHandshakes(off: RunningServer, on: RunningServer, runner: AuthRunner, sessions: string[]): Promise<Row[]> {
  const { config, log } = runner;
  const { handshakes, handshakeWarmup } = config.auth;
  if (sessions.length < handshakeWarmup + handshakes) {
    // Step 1 failed or ran short: log in here (the store is the same).
    const client = new AuthClient(await authUrlOf(off), config.auth.concurrency);
    try {
      await topUpSessions(client, runner, sessions);
    } finally {
      client.close();
    }
  }
  const servers = [off, on] as const;
  const warmup = sessions.slice(0, handshakeWarmup);
  const measured = sessions.slice(handshakeWarmup, handshakeWarmup + handshakes);
  log(`switchboard: (e) handshakes, TOKEN_STATE_CHECK off and on: ${handshakeWarmup} warm-up, ${handshakes} with a session each, ${handshakes} on one session`);
  await closeAll((await connectAlternately(servers, warmup)).sockets);
  const rows: Row[] = [];
  for (const sameSession of [false, true]) {
    const scenarios = [handshakeScenario(false, sameSession), handshakeScenario(true, sameSession)];
    rows.push(...await attempt(scenarios, async () => {
      const tokens = sameSession ? Array<string>(handshakes).fill(warmup[0] ?? measured[0] ?? '') : measured;
      await quiet(runner);
      const closeCpuWindow = openCpuWindow({ serverPids: servers.map((server) => server.pid), benchPids: runner.benchPids() });
      const started = performance.now();
      const { sockets, tallies } = await connectAlternately(servers, tokens);
      const ms = performance.now() - started;
      const cpu = closeCpuWindow();
      await closeAll(sockets);
      // Each server's requests/s: its handshakes over the whole window, which the other's share (so about half).
      return tallies.map((tally, i) => {
        tally.addWindow(cpu, ms, cpu.perServerUs[i] ?? NaN);
        return tally.row(scenarios[i] as string, 'alternating with the other server');
      });
    }));
  }
  return rows;
}

/** For each token, one socket to each server (order alternating), each connected before the next starts. */
async function connectAlternately(servers: readonly RunningServer[], tokens: readonly string[]): Promise<{ sockets: Socket[]; tallies: Tally[] }> {
  const sockets: Socket[] = [];
  const tallies = servers.map(() => new Tally('handshakes'));
  for (const [i, token] of tokens.entries()) {
    const order = i % 2 === 0 ? servers.map((_, k) => k) : servers.map((_, k) => servers.length - 1 - k);
    for (const k of order) {
      const { socket, answer } = await connectOnce(`http://127.0.0.1:${(servers[k] as RunningServer).port}`, token);
      sockets.push(socket);
      tallies[k]?.record(answer, 200);
    }
  }
  return { sockets, tallies };
}

/** A stock socket.io-client connection: status 200 on 'connect', 0 (the error in the body) on 'connect_error'. */
async function connectOnce(url: string, token: string): Promise<{ socket: Socket; answer: Answer }> {
  const started = performance.now();
  const socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, timeout: CONNECT_TIMEOUT_MS });
  const answer = await new Promise<Answer>((resolve) => {
    socket.once('connect', () => resolve({ status: 200, ms: performance.now() - started, body: '' }));
    socket.once('connect_error', (error: Error & { data?: unknown }) => {
      resolve({ status: 0, ms: performance.now() - started, body: `connect_error ${error.message} ${JSON.stringify(error.data ?? null)}` });
    });
  });
  return { socket, answer };
}

async function closeAll(sockets: readonly Socket[]): Promise<void> {
  for (const socket of sockets) socket.close();
  await sleep(300); // let the server handle the disconnects before the next window
}

/** The auth service's base URL, from the server's "gateway listening" log line (AUTH_PORT=0). */
async function authUrlOf(server: RunningServer): Promise<string> {
  const deadline = performance.now() + AUTH_URL_TIMEOUT_MS;
  for (;;) {
    for (const line of server.logTail().split('\n')) {
      if (!line.includes('"gateway listening"')) continue;
      const authUrl: unknown = (JSON.parse(line) as { authUrl?: unknown }).authUrl;
      if (typeof authUrl === 'string') return authUrl;
      throw new Error('the "gateway listening" log line has no authUrl: the auth service is off');
    }
    if (performance.now() > deadline) throw new Error(`no "gateway listening" log line within ${AUTH_URL_TIMEOUT_MS} ms (LOG_LEVEL=info?)`);
    await sleep(50);
  }
}

interface Answer {
  /** HTTP status; 0 for a transport error or a refused handshake. */
  readonly status: number;
  readonly ms: number;
  readonly body: string;
}

/** JSON POSTs to the auth service over keep-alive connections (at most `maxSockets` at once). */
class AuthClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  login(kind: LoginKind): Promise<Answer> {
    return this.post('/login', LOGIN_BODY[kind]);
  }

  refresh(refreshToken: string): Promise<Answer> {
    return this.post('/token', JSON.stringify({ token: refreshToken }));
  }

  /** Never rejects: a transport error is status 0 with the message as body. */
  private post(path: string, body: string): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve) => {
      const req = request({
        host: this.base.hostname,
        port: this.base.port,
        path: `${this.base.pathname.replace(/\/$/, '')}${path}`,
        method: 'POST',
        agent: this.agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: Buffer.concat(chunks).toString() }));
        res.once('error', (error) => resolve({ status: 0, ms: performance.now() - started, body: error.message }));
      });
      req.once('timeout', () => req.destroy(new Error('request timed out')));
      req.once('error', (error) => resolve({ status: 0, ms: performance.now() - started, body: error.message }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function tokensOf(answer: Answer): { accessToken: string; refreshToken: string } {
  const body = JSON.parse(answer.body) as { accessToken?: unknown; refreshToken?: unknown };
  if (typeof body.accessToken !== 'string' || typeof body.refreshToken !== 'string') throw new Error(`no token pair in ${answer.body.slice(0, 120)}`);
  return { accessToken: body.accessToken, refreshToken: body.refreshToken };
}

function keepSession(sessions: string[], answer: Answer): void {
  sessions.push(tokensOf(answer).accessToken);
}

/**
 * Runs `task` `total` times, `concurrency` lanes each running one at a time (`task` is told its lane). A
 * task that throws stops every lane after its current task; the first error is then rethrown.
 */
async function lanes(concurrency: number, total: number, task: (lane: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (index: number) => {
    while (next < total && failure === undefined) {
      next += 1;
      try {
        await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => lane(index)));
  if (failure !== undefined) throw failure.error;
}

function tallyPerKind(): Record<LoginKind, Tally> {
  return { right: new Tally(), wrong: new Tally(), unknown: new Tally() };
}

/** A measurement that fails becomes rows with the reason, so the rest of (e) still runs. */
async function attempt(scenarios: readonly string[], measure: () => Promise<Row[]>): Promise<Row[]> {
  try {
    return await measure();
  } catch (error) {
    const note = `FAILED: ${(error instanceof Error ? error.message : String(error)).replaceAll('\n', ' / ').slice(0, 300)}`;
    return scenarios.map((scenario): Row => ({ scenario, server: 'switchboard', note }));
  }
}

async function quiet(runner: AuthRunner): Promise<void> {
  if (!(await waitForQuietHost())) runner.log('machine still busy with other work after 10 s; measuring anyway');
}

/** `count` argon2id verifications of `phc`, one at a time, in this process: wall p50 and CPU per verification. */
async function timeArgon2(phc: string, count: number): Promise<Argon2Reference | undefined> {
  if (count <= 0) return undefined;
  await verifyPassword(phc, PASSWORD); // first one: the thread pool and the native module warming up
  const times = new Float64Array(count);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await verifyPassword(phc, WRONG_PASSWORD);
    times[i] = performance.now() - started;
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort();
  return { count, p50Ms: percentile(times, 50), cpuUs: (cpu.user + cpu.system) / count };
}

/**
 * The report's lines for (e): what a login costs next to a refresh and to argon2id alone, unknown user ÷
 * wrong password (p50 and CPU, each concurrency), and what TOKEN_STATE_CHECK adds to a handshake.
 */
export function formatAuthSummary(rows: readonly Row[], argon2: Argon2Reference | undefined, concurrency: number): string {
  const find = (scenario: string) => rows.find((row) => row.scenario === scenario && row.note?.startsWith('FAILED') !== true);
  const lines: string[] = [];
  const right = find(loginScenario('right', 1));
  const refresh = find(refreshScenario(1));
  if (right?.cpuUs !== undefined) {
    const parts = [`- login (right password, sequential): **${fmt(right.cpuUs, 0)} µs** CPU and p50 ${fmt(right.p50Ms, 2)} ms per request`];
    if (argon2 !== undefined) {
      parts.push(`argon2id verify alone (bench process, the service's parameters, ${argon2.count}×): ${fmt(argon2.cpuUs, 0)} µs CPU, ` +
        `p50 ${fmt(argon2.p50Ms, 2)} ms = **${fmt((argon2.cpuUs / right.cpuUs) * 100, 0)}%** of the login's CPU`);
    }
    if (refresh?.cpuUs !== undefined) {
      parts.push(`a refresh (same JWT signing and session write, no argon2): ${fmt(refresh.cpuUs, 0)} µs, p50 ${fmt(refresh.p50Ms, 2)} ms ` +
        `(login ÷ refresh **${fmt(right.cpuUs / refresh.cpuUs, 0)}×**)`);
    }
    lines.push(parts.join('; '));
  } else {
    lines.push('- login cost: n/a (not measured)');
  }
  for (const lanes of [1, concurrency]) {
    const wrong = find(loginScenario('wrong', lanes));
    const unknown = find(loginScenario('unknown', lanes));
    const label = lanes === 1 ? 'sequential' : `${lanes} concurrent`;
    if (wrong?.p50Ms === undefined || unknown?.p50Ms === undefined) {
      lines.push(`- unknown user ÷ wrong password, ${label}: n/a (not measured)`);
      continue;
    }
    lines.push(`- unknown user ÷ wrong password, ${label}: p50 ${fmt(unknown.p50Ms, 2)} / ${fmt(wrong.p50Ms, 2)} ms = **${fmt(unknown.p50Ms / wrong.p50Ms, 2)}×**; ` +
      `p99 ${fmt(unknown.p99Ms, 2)} / ${fmt(wrong.p99Ms, 2)} ms; CPU ${fmt(unknown.cpuUs, 0)} / ${fmt(wrong.cpuUs, 0)} µs = ${fmt((unknown.cpuUs ?? NaN) / (wrong.cpuUs ?? NaN), 2)}×`);
  }
  for (const sameSession of [false, true]) {
    const off = find(handshakeScenario(false, sameSession));
    const on = find(handshakeScenario(true, sameSession));
    const label = sameSession ? 'one session (answer cached)' : 'a session each (one store read each)';
    if (off?.p50Ms === undefined || on?.p50Ms === undefined) {
      lines.push(`- TOKEN_STATE_CHECK, handshake with ${label}: n/a (not measured)`);
      continue;
    }
    lines.push(`- TOKEN_STATE_CHECK, handshake with ${label}: p50 on ${fmt(on.p50Ms, 2)} ms − off ${fmt(off.p50Ms, 2)} ms = **${signed(on.p50Ms - off.p50Ms, 2)} ms**; ` +
      `CPU ${fmt(on.cpuUs, 0)} − ${fmt(off.cpuUs, 0)} µs = ${signed((on.cpuUs ?? NaN) - (off.cpuUs ?? NaN), 0)} µs per handshake`);
  }
  return lines.join('\n');
}

function fmt(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

function signed(value: number, digits: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}` : 'n/a';
}
