import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './children.js';
import { sleep } from './clock.js';
import { findInspectorUrl } from './inspector.js';
import type { RedisAdapterName } from './config.js';
import type { BenchData } from './ipc.js';
import { API_KEY, AUTH_ACCESS_KEY, JWT_SECRET, REFRESH_TOKEN_SECRET } from './tokens.js';

export type ServerName = 'switchboard' | 'plain' | 'floor';

/** How to start one server under test and how to publish to a user through it. */
export interface ServerSpec {
  readonly name: ServerName;
  /** Arguments after `node`, relative to the repository root. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Readiness probe: GET this path until it answers `readyStatus` (undefined: any HTTP answer). */
  readonly readyPath: string;
  readonly readyStatus: number | undefined;
  readonly publishPath: string;
  readonly publishBody: (userId: string, data: BenchData) => string;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOST = '127.0.0.1';

export const SERVER_SPECS: readonly ServerSpec[] = [
  {
    name: 'switchboard',
    args: ['dist/main.js'],
    env: {
      NODE_ENV: 'production', API_KEYS: API_KEY, JWT_SECRET, LOG_LEVEL: 'warn', CORS_ORIGIN: '*', SESSION_POLICY: 'multi',
      // Every bench client comes from 127.0.0.1 as one user: the connection limits stay on (their cost is
      // measured) with values those thousands of connections do not reach.
      CONNECTIONS_BURST: '1000000', MAX_CONNECTIONS_PER_USER: '1000000',
    },
    readyPath: '/readyz',
    readyStatus: 200,
    publishPath: '/v1/publish',
    publishBody: (userId, data) => JSON.stringify({ event: 'bench', data, users: [userId] }),
  },
  ...(['plain', 'floor'] as const).map((name): ServerSpec => ({
    name,
    args: ['--import', 'tsx', name === 'plain' ? 'bench/baselines/express-socketio.ts' : 'bench/baselines/bare-ws.ts'],
    env: { JWT_SECRET, API_KEY },
    readyPath: '/',
    readyStatus: undefined,
    publishPath: '/internal/emit',
    publishBody: (userId, data) => JSON.stringify({ userId, event: 'bench', payload: data }),
  })),
];

/**
 * Switchboard as one node of a cluster on the Redis that `redisEnv` names (REDIS_URL, REDIS_SENTINELS +
 * REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES), fanning out through `adapter` (REDIS_ADAPTER); every node
 * started from the same spec shares `prefix` (REDIS_DATA_PREFIX).
 */
export function switchboardOnRedis(redisEnv: Readonly<Record<string, string>>, adapter: RedisAdapterName, prefix: string): ServerSpec {
  const single = SERVER_SPECS.find((spec) => spec.name === 'switchboard');
  if (single === undefined) throw new Error('no switchboard spec');
  return { ...single, env: { ...single.env, ...redisEnv, REDIS_ADAPTER: adapter, REDIS_DATA_PREFIX: prefix } };
}

/**
 * Switchboard with its auth service (phase e): ACCESS_TOKEN_SECRET (= JWT_SECRET, so the socket accepts the
 * service's access tokens whatever a `.env` says), REFRESH_TOKEN_SECRET, ACCESS_KEY, the SQLite account store
 * under `dataDir`, its own listener on a port the kernel picks (AUTH_PORT=0: the URL is in the "gateway
 * listening" log line, hence LOG_LEVEL=info, which adds one log line per login and none per refresh or
 * handshake), a failed-login limit the bench never reaches, and TOKEN_STATE_CHECK as given.
 */
export function switchboardWithAuthService(dataDir: string, tokenStateCheck: boolean): ServerSpec {
  const single = SERVER_SPECS.find((spec) => spec.name === 'switchboard');
  if (single === undefined) throw new Error('no switchboard spec');
  return {
    ...single,
    env: {
      ...single.env,
      LOG_LEVEL: 'info',
      ACCESS_TOKEN_SECRET: JWT_SECRET,
      REFRESH_TOKEN_SECRET,
      ACCESS_KEY: AUTH_ACCESS_KEY,
      AUTH_PORT: '0',
      DATA_DIR: dataDir,
      LOGIN_MAX_FAILURES: '1000000',
      TOKEN_STATE_CHECK: String(tokenStateCheck),
    },
  };
}

export interface RunningServer {
  readonly spec: ServerSpec;
  readonly pid: number;
  readonly port: number;
  readonly wsUrl: string;
  /** The last lines the server wrote to stdout/stderr, for error reports. */
  readonly logTail: () => string;
  /** The DevTools URL, when started with `--inspect=127.0.0.1:0` (Node prints it on stderr). */
  readonly inspectorUrl: () => string | undefined;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  readonly stop: () => Promise<void>;
}

export interface StartOptions {
  /** Extra `node` flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  readonly readyTimeoutMs?: number;
  /**
   * The CPUs the server (and every process it forks) may run on, a `taskset -c` list such as "1" or "0-1":
   * started through `taskset`, which execs node, so the pid is node's. Undefined: wherever the kernel likes.
   */
  readonly cpus?: string;
}

/** Starts a server as a child process on a free 127.0.0.1 port and waits until its readiness probe passes. */
export async function startServer(spec: ServerSpec, options: StartOptions = {}): Promise<RunningServer> {
  const entry = spec.args.at(-1) ?? '';
  if (!existsSync(join(REPO_ROOT, entry))) {
    throw new Error(`${spec.name}: ${entry} does not exist${spec.name === 'switchboard' ? ' (run `npm run build`)' : ''}`);
  }
  const port = await freePort();
  const command = [process.execPath, ...(options.nodeFlags ?? []), ...spec.args];
  const [file, ...args] = options.cpus === undefined ? command : ['taskset', '-c', options.cpus, ...command];
  const child = track(spawn(file ?? process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...spec.env, PORT: String(port), HOST },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  const tail: string[] = [];
  let inspectorUrl: string | undefined;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    inspectorUrl ??= findInspectorUrl(text);
    tail.push(...text.split('\n').filter((line) => line.length > 0));
    tail.splice(0, Math.max(0, tail.length - 30));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (child.pid === undefined) throw new Error(`${spec.name}: failed to spawn`);
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const server: RunningServer = {
    spec,
    pid,
    port,
    wsUrl: `ws://${HOST}:${port}/socket.io/?EIO=4&transport=websocket`,
    logTail: () => tail.join('\n'),
    inspectorUrl: () => inspectorUrl,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = performance.now() + (options.readyTimeoutMs ?? 20_000);
  while (!(await probe(port, spec))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${spec.name} exited during startup (${child.signalCode ?? child.exitCode}):\n${server.logTail()}`);
    }
    if (performance.now() > deadline) {
      await server.stop();
      throw new Error(`${spec.name} was not ready within ${options.readyTimeoutMs ?? 20_000} ms:\n${server.logTail()}`);
    }
    await sleep(100);
  }
  return server;
}

function probe(port: number, spec: ServerSpec): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: HOST, port, path: spec.readyPath, method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(spec.readyStatus === undefined || res.statusCode === spec.readyStatus);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A port the kernel just reported free on 127.0.0.1 (it could be taken again before use; unlikely here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probeServer = createServer();
    probeServer.once('error', reject);
    probeServer.listen(0, HOST, () => {
      const address = probeServer.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probeServer.close(() => resolve(port));
    });
  });
}
