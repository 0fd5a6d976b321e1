import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { track } from './children.js';
import { sleep } from './clock.js';
import { freePort } from './servers.js';

/** The port of the machine's own Redis, which the bench never uses (nor any other already taken port). */
const SYSTEM_REDIS_PORT = 6379;
const HOST = '127.0.0.1';

/** A `redis-server` the bench started for itself, on its own free port, with persistence off. */
export interface BenchRedis {
  readonly pid: number;
  readonly port: number;
  /** `redis://127.0.0.1:<port>/0`, Switchboard's REDIS_URL. */
  readonly url: string;
  /** Sends one inline command (e.g. `INFO commandstats`) and resolves with the raw reply text. */
  readonly command: (line: string) => Promise<string>;
  /** The last lines the server wrote, for error reports. */
  readonly logTail: () => string;
  /** SIGTERM (nothing to save), then SIGKILL if it has not exited within 5 s. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts `redis-server` (from PATH) on a free 127.0.0.1 port with no RDB snapshots and no AOF, and waits
 * until it answers PING. The child is tracked (lib/children.ts), so an error, an exit or Ctrl-C stops it.
 */
export async function startRedis(readyTimeoutMs = 10_000): Promise<BenchRedis> {
  let port = await freePort();
  while (port === SYSTEM_REDIS_PORT) port = await freePort();
  const child = track(spawn('redis-server', [
    '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString().split('\n').filter((line) => line.length > 0));
    tail.splice(0, Math.max(0, tail.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => { spawnError = error; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;

  const redis: BenchRedis = {
    pid: child.pid ?? -1,
    port,
    url: `redis://${HOST}:${port}/0`,
    command: (line) => sendCommand(port, line),
    logTail: () => tail.join('\n'),
    stop: async () => {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    if (gone()) {
      const logged = redis.logTail();
      throw new Error(`redis-server did not start (${spawnError?.message ?? child.signalCode ?? child.exitCode})${logged === '' ? '' : `:\n${logged}`}`);
    }
    if ((await sendCommand(port, 'PING').catch(() => '')).startsWith('+PONG')) return redis;
    if (performance.now() > deadline) {
      await redis.stop();
      throw new Error(`redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms:\n${redis.logTail()}`);
    }
    await sleep(50);
  }
}

/**
 * One inline command on a fresh connection; resolves with the reply once complete. Only the reply kinds the
 * bench gets are understood: simple strings and errors (`+PONG`, `-ERR …`) and bulk strings (`INFO`).
 */
function sendCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let reply = Buffer.alloc(0);
    socket.setTimeout(2000, () => socket.destroy(new Error(`redis ${line}: no reply`)));
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (replyComplete(reply)) {
        socket.destroy();
        resolve(reply.toString());
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`redis ${line}: connection closed`)));
  });
}

function replyComplete(reply: Buffer): boolean {
  const header = reply.indexOf('\r\n');
  if (header < 0) return false;
  if (reply[0] !== 0x24) return true; // not '$': a one-line reply
  const length = Number(reply.subarray(1, header).toString());
  return length < 0 || reply.length >= header + 2 + length + 2;
}
