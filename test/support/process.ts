import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onCleanup } from './cleanup.js';
import { TEST_API_KEY, TEST_JWT_SECRET } from './gateway.js';
import { freshDir } from './temp.js';
import { waitFor } from './wait.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'src/main.ts');
/** What package.json's `bin` runs for `npx switchboard` (and `npm run users`). */
export const CLI = join(ROOT, 'bin/switchboard.js');
/** tsx's loader by absolute URL, so the child can run TypeScript from any working directory. */
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** How a command-line run ended: its exit code and everything it wrote. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the `switchboard` command line (`node bin/switchboard.js …`, as `npx switchboard` does) in `cwd`
 * (default: a fresh empty directory, so no `.env` is read unless the test writes one) with PATH, HOME and
 * `env` only, and `input` piped on standard input.
 */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? freshDir('cli'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.input ?? '');
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A gateway running as its own process (`node --import tsx src/main.ts`), as `npm start` runs it. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the base URL once the gateway logs that it listens; fails with its output after `timeoutMs`. */
  listening(timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code. */
  exited(): Promise<number | null>;
}

/**
 * Spawns `node --import tsx src/main.ts` with PATH, HOME, HOST=127.0.0.1 and PORT=0 plus `env` in `cwd`, and
 * collects its output. Shared by {@link spawnGateway} and {@link spawnSharedGateway}, which decide who kills it.
 */
function launch(env: Record<string, string>, cwd: string): Pick<GatewayProcess, 'child' | 'output' | 'listening'> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, ENTRY], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    child,
    output: () => text,
    listening: async (timeoutMs = 15_000) => {
      const exited = new AbortController();
      const onExit = () => exited.abort(new Error(`gateway exited with ${child.exitCode ?? child.signalCode}:\n${text}`));
      if (child.exitCode !== null || child.signalCode !== null) onExit();
      else child.once('exit', onExit);
      try {
        const port = await waitFor(() => /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(text)?.[1] ?? false, {
          timeoutMs, what: 'the gateway to log that it listens', signal: exited.signal,
        }).catch((error: unknown) => {
          throw exited.signal.aborted ? error : new Error(`gateway not listening after ${timeoutMs} ms:\n${text}`);
        });
        return `http://127.0.0.1:${port}`;
      } finally {
        child.off('exit', onExit);
      }
    },
  };
}

/**
 * Starts the gateway as a child process with a minimal environment (PATH and HOME) plus `env`, in a fresh
 * empty working directory (so no `.env` file is picked up unless the test writes one there).
 */
export function spawnGateway(env: Record<string, string>, cwd = freshDir('gateway')): GatewayProcess {
  const { child, output, listening } = launch(env, cwd);
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
  });
  return { child, output, listening, exited: () => exit };
}

/** A gateway process that outlives the current test (see {@link spawnSharedGateway}). */
export interface SharedGatewayProcess extends GatewayProcess {
  /** SIGKILLs the process (if it still runs) and waits for its exit. */
  kill(): Promise<void>;
}

const sharedChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of sharedChildren) child.kill('SIGKILL');
});

/**
 * Like {@link spawnGateway}, for nodes that a describe block shares between its tests: the process is not
 * killed after each test; call `kill()` in `afterAll` (it is SIGKILLed anyway when the test worker exits).
 */
export function spawnSharedGateway(env: Record<string, string>, cwd = freshDir('gateway')): SharedGatewayProcess {
  const { child, output, listening } = launch(env, cwd);
  sharedChildren.add(child);
  const exit = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      sharedChildren.delete(child);
      done(code);
    }),
  );
  return {
    child,
    output,
    listening,
    exited: () => exit,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
  };
}

/** Presence heartbeat of the multi-node tests: short, so a killed node drops out quickly. */
export const CLUSTER_HEARTBEAT_MS = 500;

/** The environment of a production-like gateway process in the multi-node tests (add REDIS_URL, PORT). */
export const CLUSTER_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  API_KEYS: TEST_API_KEY,
  JWT_SECRET: TEST_JWT_SECRET,
  LOG_LEVEL: 'info',
  PRESENCE_HEARTBEAT_MS: String(CLUSTER_HEARTBEAT_MS),
};
