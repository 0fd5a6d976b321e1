import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';
import { freshDir } from './temp.js';
import { waitFor } from './wait.js';

/**
 * A throwaway redis-server that a test, a describe block or the bench started for itself: its own free port
 * on 127.0.0.1 (never the machine's Redis on 6379), no persistence, its own empty working directory.
 */
export interface TestRedis {
  /** `redis://127.0.0.1:{port}/0`, with `:{password}@` when one is set. */
  readonly url: string;
  readonly port: number;
  readonly password: string | undefined;
  /** The process id of the server running now (another one after {@link restart}). */
  readonly pid: number;
  /** Everything the current server wrote to stdout and stderr (warnings and errors: `--loglevel warning`). */
  output(): string;
  /** SIGTERM (nothing to save: `--save ''`), SIGKILL if it has not exited within 5 s; waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the port stays open but nothing answers. */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Stops the server (if running) and starts a fresh, empty one on the same port. */
  restart(): Promise<void>;
  /** Sends one command on a fresh connection (after AUTH when a password is set); resolves with the raw RESP reply. */
  command(...args: string[]): Promise<string>;
  /** Runs one command with `redis-cli --raw` against this server; resolves with the reply's lines. */
  cli(...args: string[]): Promise<string[]>;
}

export interface StartRedisOptions {
  /** Listen on this port (e.g. one a gateway already points at); a free one otherwise. */
  port?: number;
  /**
   * Who kills the server: `'test'` (default) registers it with `onCleanup`, so it is killed after the
   * current test; `'manual'` leaves it to the caller (e.g. `afterAll(() => redis.kill())` for a server a
   * describe block shares, or the bench). Either way it is killed when the process exits.
   */
  cleanup?: 'test' | 'manual';
  /** Require this password (`--requirepass`). */
  password?: string;
  /** How long the server may take to answer PING (default 5 s). */
  readyTimeoutMs?: number;
  /** Called with every redis-server process started (the bench tracks its children with it). */
  onSpawn?: (child: ChildProcess) => void;
  /** A configuration file (its path first on the command line), e.g. a Sentinel's, which rewrites it. */
  configFile?: string;
  /** More command-line options after ours (e.g. `--replicaof 127.0.0.1 6380`, `--sentinel`). */
  args?: readonly string[];
  /**
   * Start a Redis Cluster node (`--cluster-enabled yes`, its `nodes.conf` in its own directory) that calls
   * a peer failed after `nodeTimeoutMs`; its cluster bus gets a free port of its own (`--cluster-port`:
   * the default, port + 10000, may not exist).
   */
  cluster?: { readonly nodeTimeoutMs: number };
}

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';
const SYSTEM_REDIS_PORT = 6379;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

/** A TCP port nothing listens on right now (listen on port 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` on 127.0.0.1 and resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const { password, readyTimeoutMs = 5000 } = options;
  const pickPort = async () => {
    let port = await freePort();
    while (port === SYSTEM_REDIS_PORT) port = await freePort();
    return port;
  };
  let port = options.port ?? (await pickPort());
  const dir = freshDir('redis');
  let child: ChildProcess | undefined;
  let exit: Promise<void> = Promise.resolve();
  let text = '';
  let paused = false;

  const launch = async (): Promise<void> => {
    text = '';
    const args = [
      ...(options.configFile === undefined ? [] : [options.configFile]),
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning',
    ];
    if (password !== undefined) args.push('--requirepass', password);
    if (options.cluster !== undefined) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(options.cluster.nodeTimeoutMs));
      args.push('--cluster-port', String(await pickPort()));
    }
    args.push(...(options.args ?? []));
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    options.onSpawn?.(proc);
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const gone = new AbortController();
    exit = new Promise<void>((done) => {
      const ended = (why: string) => {
        live.delete(proc);
        gone.abort(new Error(`redis-server on port ${port} did not start (${why}):\n${text}`));
        done();
      };
      proc.once('exit', (code, signal) => ended(`exit ${signal ?? code}`));
      proc.once('error', (error) => ended(`spawn failed: ${error.message}`));
    });
    try {
      await waitFor(() => answersPing(port, password), { timeoutMs: readyTimeoutMs, intervalMs: 20, what: `redis-server on port ${port} to answer PING`, signal: gone.signal });
    } catch (error) {
      proc.kill('SIGKILL');
      throw error instanceof Error && !gone.signal.aborted ? new Error(`${error.message}:\n${text}`) : error;
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    if (paused) {
      proc.kill('SIGCONT');
      paused = false;
    }
    proc.kill(signal);
    const escalate = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(escalate);
  };

  // A port picked by freePort can be taken by another test worker before redis binds it: retry a few times.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await launch();
      break;
    } catch (error) {
      if (options.port !== undefined || attempt >= 3) throw error;
      port = await pickPort();
    }
  }

  const redis: TestRedis = {
    url: `redis://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${port}/0`,
    port,
    password,
    get pid() {
      return child?.pid ?? -1;
    },
    output: () => text,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    pause() {
      if (child !== undefined && child.exitCode === null && !paused) {
        child.kill('SIGSTOP');
        paused = true;
      }
    },
    resume() {
      if (child !== undefined && paused) {
        child.kill('SIGCONT');
        paused = false;
      }
    },
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    command: (...args) => sendCommand(port, args, password),
    cli: (...args) =>
      new Promise<string[]>((resolve, reject) => {
        const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
        execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...auth, '--raw', ...args], { timeout: 5000 }, (error, stdout) => {
          if (error) reject(error);
          else resolve(stdout.split('\n').filter((line) => line.length > 0));
        });
      }),
  };
  if ((options.cleanup ?? 'test') === 'test') onCleanup(() => redis.kill());
  return redis;
}

/**
 * A Redis Sentinel deployment a test (or the bench) started for itself: a master, one replica of it, and
 * three Sentinels (quorum 2) that monitor it under {@link name}, each on its own free port; everything is
 * killed after the current test (unless `cleanup: 'manual'`).
 */
export interface TestSentinelGroup {
  /** The master's name the Sentinels monitor (REDIS_SENTINEL_NAME). */
  readonly name: string;
  /** The master at the start (SIGKILL it to make the Sentinels fail over to {@link replica}). */
  readonly master: TestRedis;
  readonly replica: TestRedis;
  readonly sentinels: readonly TestRedis[];
  /** `127.0.0.1:{port},…` of the Sentinels (REDIS_SENTINELS). */
  readonly sentinelList: string;
  /** How long the Sentinels wait for a silent master before they call it down (`down-after-milliseconds`). */
  readonly downAfterMs: number;
  /** The port of the master as the first Sentinel that answers names it now. */
  masterPort(): Promise<number>;
}

/** Who stops a group's servers and who hears of each process started, as for one server ({@link StartRedisOptions}). */
export type RedisGroupLaunch = Pick<StartRedisOptions, 'cleanup' | 'onSpawn'>;

export interface StartSentinelGroupOptions extends RedisGroupLaunch {
  /** The master's and replica's password (`requirepass` and `masterauth`; the Sentinels' `auth-pass`). */
  password?: string;
  /** The Sentinels' own password (their `requirepass`). */
  sentinelPassword?: string;
  /** `down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `failover-timeout` (default 3000). */
  failoverTimeoutMs?: number;
}

/**
 * Starts a master, a replica (`--replicaof`) and three Sentinels (`redis-server <conf> --sentinel`, their
 * configuration files written to a fresh directory) and resolves once each Sentinel knows the replica and
 * the two other Sentinels, so a failover can be voted as soon as the master goes.
 */
export async function startSentinelGroup(options: StartSentinelGroupOptions = {}): Promise<TestSentinelGroup> {
  const { password, sentinelPassword, downAfterMs = 1000, failoverTimeoutMs = 3000, cleanup, onSpawn } = options;
  const name = 'sbmaster';
  // On both (either may be the master): the first sync starts at once (not after the default 5 s wait for
  // more replicas), and `masterauth`, as the master becomes a replica itself if it comes back after a failover.
  const replication = ['--repl-diskless-sync-delay', '0', ...(password === undefined ? [] : ['--masterauth', password])];
  const master = await startRedis({ password, cleanup, onSpawn, args: replication });
  const replica = await startRedis({ password, cleanup, onSpawn, args: [...replication, '--replicaof', '127.0.0.1', String(master.port)] });
  await waitFor(async () => (await replica.cli('INFO', 'replication')).some((line) => line.startsWith('master_link_status:up')), {
    what: 'the replica in sync with the master',
  });
  const dir = freshDir('sentinel');
  const sentinels = await Promise.all([0, 1, 2].map(async (index) => {
    const configFile = join(dir, `sentinel-${index}.conf`);
    writeFileSync(configFile, [
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
      ...(password === undefined ? [] : [`sentinel auth-pass ${name} ${password}`]),
      '',
    ].join('\n'));
    return startRedis({ password: sentinelPassword, cleanup, onSpawn, configFile, args: ['--sentinel'] });
  }));
  const masterFacts = async (sentinel: TestRedis): Promise<Map<string, string>> => {
    const lines = await sentinel.cli('SENTINEL', 'MASTER', name);
    return new Map(lines.flatMap((line, at) => (at % 2 === 0 ? [[line, lines[at + 1] ?? '']] : [])));
  };
  await waitFor(async () => {
    const facts = await Promise.all(sentinels.map(masterFacts));
    return facts.every((fact) => fact.get('num-slaves') === '1' && fact.get('num-other-sentinels') === '2');
  }, { timeoutMs: 15_000, intervalMs: 100, what: 'each Sentinel to know the replica and the two other Sentinels' });
  return {
    name,
    master,
    replica,
    sentinels,
    sentinelList: sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
    downAfterMs,
    async masterPort() {
      for (const sentinel of sentinels) {
        const answer = await sentinel.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(() => undefined);
        if (answer?.[1] !== undefined) return Number(answer[1]);
      }
      throw new Error('no Sentinel answered');
    },
  };
}

/**
 * A Redis Cluster a test (or the bench) started for itself: three masters, each with one replica when
 * asked, on free ports, all slots assigned; everything is killed after the current test (unless
 * `cleanup: 'manual'`).
 */
export interface TestRedisCluster {
  readonly nodes: readonly TestRedis[];
  /** `127.0.0.1:{port},…` of every node (REDIS_CLUSTER_NODES). */
  readonly nodeList: string;
  /** How long a node waits for a silent peer before it calls it failed (`cluster-node-timeout`). */
  readonly nodeTimeoutMs: number;
  /** The node that serves `key`'s slot as master now, as the first node that answers says. */
  masterOf(key: string): Promise<TestRedis>;
  /** The `CLUSTER INFO` fields of `node`. */
  info(node: TestRedis): Promise<Map<string, string>>;
}

export interface StartRedisClusterOptions extends RedisGroupLaunch {
  /** One replica per master (6 nodes; needed for a failover). Default false (3 masters). */
  replicas?: boolean;
  /** Every node's password (`requirepass`, and `masterauth` for the replicas). */
  password?: string;
  /** `cluster-node-timeout` (default 1000). */
  nodeTimeoutMs?: number;
}

/**
 * Starts the nodes (`redis-server --cluster-enabled yes`), joins them with `redis-cli --cluster create`
 * (slots spread over the masters, `--cluster-replicas 1` with replicas) and resolves once every node says
 * `cluster_state:ok` and knows every other node, and every replica is in sync with its master.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<TestRedisCluster> {
  const { password, replicas = false, nodeTimeoutMs = 1000, cleanup, onSpawn } = options;
  const auth = password === undefined ? [] : ['--masterauth', password];
  const nodes = await Promise.all(Array.from({ length: replicas ? 6 : 3 }, () =>
    startRedis({ password, cleanup, onSpawn, cluster: { nodeTimeoutMs }, args: ['--repl-diskless-sync-delay', '0', ...auth] })));
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  await new Promise<void>((resolve, reject) => {
    const args = ['--cluster', 'create', ...addresses, '--cluster-replicas', replicas ? '1' : '0', '--cluster-yes'];
    execFile(REDIS_CLI, [...(password === undefined ? [] : ['-a', password, '--no-auth-warning']), ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
      (error === null ? resolve() : reject(new Error(`redis-cli --cluster create failed: ${error.message}\n${stdout}${stderr}`))));
  });
  const info = async (node: TestRedis): Promise<Map<string, string>> =>
    new Map((await node.cli('CLUSTER', 'INFO')).map((line) => line.trim().split(':') as [string, string]));
  await waitFor(async () => (await Promise.all(nodes.map(info))).every((facts) =>
    facts.get('cluster_state') === 'ok' && facts.get('cluster_known_nodes') === String(nodes.length)), {
    timeoutMs: 20_000, intervalMs: 100, what: 'every cluster node to say cluster_state:ok and know every other node',
  });
  await waitFor(async () => (await Promise.all(nodes.map((node) => node.cli('INFO', 'replication')))).every((lines) =>
    lines.some((line) => line.trim() === 'role:master' || line.trim() === 'master_link_status:up')), {
    timeoutMs: 20_000, intervalMs: 100, what: 'every replica in sync with its master',
  });
  return {
    nodes,
    nodeList: addresses.join(','),
    nodeTimeoutMs,
    info,
    async masterOf(key) {
      for (const node of nodes) {
        const slot = Number((await node.cli('CLUSTER', 'KEYSLOT', key).catch(() => []))[0]);
        const lines = await node.cli('CLUSTER', 'NODES').catch(() => []);
        for (const line of lines) {
          const [, address, flags, , , , , state, ...ranges] = line.trim().split(' ');
          if (address === undefined || flags === undefined || !flags.split(',').includes('master') || flags.includes('fail') || state !== 'connected') continue;
          const serves = ranges.some((range) => {
            const [from, to = from] = range.split('-').map(Number);
            return from !== undefined && to !== undefined && slot >= from && slot <= to;
          });
          const port = Number(address.split('@')[0]?.split(':')[1]);
          const master = nodes.find((candidate) => candidate.port === port);
          if (serves && master !== undefined) return master;
        }
      }
      throw new Error(`no node named the master of ${key}`);
    },
  };
}

/** True when a `PING` on `port` (after `AUTH password` if given) answers `+PONG`. */
export async function answersPing(port: number, password?: string, timeoutMs = 500): Promise<boolean> {
  return (await sendCommand(port, ['PING'], password, timeoutMs).catch(() => '')).startsWith('+PONG');
}

/**
 * Sends `args` as one RESP command on a fresh connection to 127.0.0.1:`port` (preceded by `AUTH password`
 * when given) and resolves with the command's raw reply; rejects on a refused, closed or silent connection.
 */
function sendCommand(port: number, args: string[], password?: string, timeoutMs = 2000): Promise<string> {
  const commands = password === undefined ? [args] : [['AUTH', password], args];
  const encode = (command: string[]) => `*${command.length}\r\n${command.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis ${args[0] ?? ''}: no reply within ${timeoutMs} ms`)));
    socket.once('connect', () => socket.write(commands.map(encode).join('')));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      let start = 0;
      for (let i = 0; i < commands.length - 1 && start >= 0; i += 1) start = replyEnd(reply, start);
      const end = start < 0 ? -1 : replyEnd(reply, start);
      if (end < 0) return;
      socket.destroy();
      resolve(reply.subarray(start, end).toString());
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`redis ${args[0] ?? ''}: connection closed`)));
  });
}

/**
 * Where the RESP reply that starts at `at` ends (the index just after it), or -1 while it is incomplete:
 * simple strings, errors, integers, bulk strings and arrays of these.
 */
function replyEnd(reply: Buffer, at: number): number {
  const lineEnd = reply.indexOf('\r\n', at);
  if (lineEnd < 0) return -1;
  const type = reply[at];
  const length = Number(reply.subarray(at + 1, lineEnd).toString());
  if (type === 0x24 /* $ */) return length < 0 ? lineEnd + 2 : reply.length >= lineEnd + 4 + length ? lineEnd + 4 + length : -1;
  if (type === 0x2a /* * */) {
    let next = lineEnd + 2;
    for (let i = 0; i < length && next >= 0; i += 1) next = replyEnd(reply, next);
    return next;
  }
  return lineEnd + 2;
}
