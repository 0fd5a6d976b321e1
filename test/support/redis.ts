import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';

/** A throwaway redis-server owned by one test (or one describe block); never the system Redis on 6379. */
export interface TestRedis {
  /** `redis://127.0.0.1:{port}/0`, with `:{password}@` when one is set. */
  readonly url: string;
  readonly port: number;
  readonly password: string | undefined;
  /** Everything the current server wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, then waits for the exit (nothing is saved: `--save ''`). */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the port stays open but nothing answers. */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Stops the server (if running) and starts a fresh, empty one on the same port. */
  restart(): Promise<void>;
  /** Runs one command with `redis-cli --raw` against this server; resolves with the reply's lines. */
  cli(...args: string[]): Promise<string[]>;
}

export interface StartRedisOptions {
  /** Listen on this port (e.g. one a gateway already points at); a free one otherwise. */
  port?: number;
  /**
   * Who kills the server: `'test'` (default) registers it with `onCleanup`, so it is killed after the
   * current test; `'manual'` leaves it to the caller (e.g. `afterAll(() => redis.kill())` for a server a
   * describe block shares). Either way it is killed when the test worker exits.
   */
  cleanup?: 'test' | 'manual';
  /** Require this password (`--requirepass`). */
  password?: string;
}

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';
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
  let port = options.port ?? (await freePort());
  const { password } = options;
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-redis-'));
  let child: ChildProcess | undefined;
  let exit: Promise<void> = Promise.resolve();
  let text = '';
  let paused = false;

  const launch = async (): Promise<void> => {
    text = '';
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no'];
    if (password !== undefined) args.push('--requirepass', password);
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    exit = new Promise<void>((done) => {
      proc.once('exit', () => {
        live.delete(proc);
        done();
      });
      proc.once('error', (error) => {
        live.delete(proc);
        text += `\nspawn failed: ${error.message}`;
        done();
      });
    });
    const deadline = Date.now() + 5000;
    while (!(await answersPing(port, password))) {
      if (proc.exitCode !== null || proc.signalCode !== null || text.includes('spawn failed')) {
        throw new Error(`redis-server on port ${port} did not start:\n${text}`);
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING within 5 s:\n${text}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
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
    await exit;
  };

  // A port picked by freePort can be taken by another test worker before redis binds it: retry a few times.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await launch();
      break;
    } catch (error) {
      if (options.port !== undefined || attempt >= 3) throw error;
      port = await freePort();
    }
  }

  const redis: TestRedis = {
    url: `redis://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${port}/0`,
    port,
    password,
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

/** True when a RESP `PING` on `port` (after `AUTH password` if given) answers `+PONG`. */
export function answersPing(port: number, password?: string, timeoutMs = 500): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const commands = password === undefined ? [['PING']] : [['AUTH', password], ['PING']];
    const resp = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    socket.once('connect', () => socket.write(commands.map(resp).join('')));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      const lines = reply.split('\r\n').slice(0, -1);
      if (lines.length >= commands.length) done(lines[commands.length - 1] === '+PONG');
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
