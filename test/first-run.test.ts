import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onCleanup } from './support/cleanup.js';
import { api, connectClient } from './support/gateway.js';
import { spawnGateway } from './support/process.js';
import { freePort } from './support/redis.js';
import { freshDir } from './support/temp.js';
import { waitFor } from './support/wait.js';

/**
 * A newcomer's first hour, as the gateway process shows it: the banner sets what the docs' examples use,
 * a taken port or a missing Redis/PostgreSQL is said first and plainly, logs are readable on a terminal,
 * and the licence is the one package.json names.
 */
const ROOT = resolve(import.meta.dirname, '..');

/** Shell variables the docs' examples leave to the reader on purpose (each says so next to it). */
const READER_VALUES = new Set(['PASSWORD', 'EPOCH']);

/** `$NAME`s used in the shell blocks of README.md and docs/ but not assigned (`NAME=`) in the same block. */
function variablesTheExamplesUse(): Map<string, string> {
  const documents = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
  const used = new Map<string, string>();
  for (const document of documents) {
    for (const [, body] of readFileSync(join(ROOT, document), 'utf8').matchAll(/^```(?:bash|sh|shell)\n([\s\S]*?)^```$/gm)) {
      const assigned = new Set([...body!.matchAll(/(?:^|[\s;])([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!));
      for (const [, name] of body!.matchAll(/\$\{?([A-Z][A-Z0-9_]*)\b/g)) {
        if (!assigned.has(name!) && !READER_VALUES.has(name!)) used.set(name!, document);
      }
    }
  }
  return used;
}

/** A TCP port some other program holds on 127.0.0.1 for this test. */
async function takenPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  onCleanup(() => new Promise<void>((closed) => server.close(() => closed())));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('the development banner', () => {
  it('exports every variable the examples of README.md and docs/ use, with values that work', async () => {
    const used = variablesTheExamplesUse();
    expect([...used.keys()]).toEqual(expect.arrayContaining(['API_KEY', 'INTERNAL_SECRET', 'HTTP_API_KEY', 'ADMIN_JWT_OR_API_KEY', 'TOKEN']));

    const gateway = spawnGateway({ NODE_ENV: 'development' });
    const url = await gateway.listening();
    const line = await waitFor(() => /^\s+export (.+)$/m.exec(gateway.output())?.[1] ?? false, { what: 'the export line of the banner' });
    const exported = Object.fromEntries([...line.matchAll(/([A-Z][A-Z0-9_]*)='([^']*)'/g)].map((match) => [match[1]!, match[2]!]));
    const missing = [...used].filter(([name]) => exported[name] === undefined).map(([name, document]) => `$${name} (${document})`);
    expect(missing).toEqual([]);

    for (const name of ['API_KEY', 'INTERNAL_SECRET', 'HTTP_API_KEY', 'ADMIN_JWT_OR_API_KEY']) {
      expect((await api(url, '/v1/stats', { key: exported[name]! })).status, name).toBe(200);
    }
    const socket = await connectClient(url, exported.TOKEN!);
    expect(socket.connected).toBe(true);
  });
});

describe('starting where something is wrong', () => {
  it('a taken PORT: exits 1 saying which port is in use and which variable to change', async () => {
    const port = await takenPort();
    const gateway = spawnGateway({ PORT: String(port), API_KEYS: 'first-run-key-0123456789', JWT_SECRET: 'first-run-secret-0123456789abcdef' });
    expect(await gateway.exited()).toBe(1);
    expect(gateway.output()).toContain(`switchboard: port ${port} is already in use (PORT=${port}`);
    expect(gateway.output()).toContain(`PORT=${port + 1} npm start`);
  });

  it('a taken AUTH_PORT: names AUTH_PORT', async () => {
    const port = await takenPort();
    const gateway = spawnGateway({ AUTH_SERVICE: 'on', AUTH_PORT: String(port), DATA_DIR: freshDir('first-run') });
    expect(await gateway.exited()).toBe(1);
    expect(gateway.output()).toContain(`port ${port} is already in use (AUTH_PORT=${port}`);
  });

  it('Redis unreachable: said before the banner, naming REDIS_URL without its password; the node keeps running and retrying', async () => {
    const port = await freePort();
    const password = 'first-run-redis-pass-8c1d';
    const gateway = spawnGateway({ NODE_ENV: 'development', REDIS_URL: `redis://:${password}@127.0.0.1:${port}/0` });
    const url = await gateway.listening();
    await waitFor(() => gateway.output().includes('Switchboard is running at'), { what: 'the banner' });
    const output = gateway.output();
    const notice = output.indexOf(`!! Redis is unreachable at redis://:[redacted]@127.0.0.1:${port}/0 (REDIS_URL)`);
    expect(notice).toBeGreaterThanOrEqual(0);
    expect(notice).toBeLessThan(output.indexOf('Switchboard is running at'));
    // The log says it too (in production that is the only place), as an error.
    expect(output).toMatch(/"level":50[^\n]*"msg":"Redis is unreachable at redis:\/\/:\[redacted\]@127\.0\.0\.1:\d+\/0 \(REDIS_URL\)/);
    expect(output).not.toContain(password);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect(gateway.child.exitCode).toBeNull();
  });

  it('PostgreSQL unreachable: the first thing printed names DATABASE_URL without its password, and the start stops', async () => {
    const port = await freePort();
    const password = 'first-run-pg-pass-3e9a';
    const gateway = spawnGateway({ AUTH_SERVICE: 'on', AUTH_PORT: '0', DATABASE_URL: `postgres://switchboard:${password}@127.0.0.1:${port}/auth` });
    expect(await gateway.exited()).toBe(1);
    const firstLine = gateway.output().trimStart().split('\n')[0];
    expect(firstLine).toMatch(new RegExp(`^switchboard: failed to start: PostgreSQL at postgres://switchboard:\\[redacted\\]@127\\.0\\.0\\.1:${port}/auth \\(DATABASE_URL\\) cannot be used: .*ECONNREFUSED`));
    expect(gateway.output()).not.toContain(password);
  });
});

describe('logs', () => {
  /**
   * Runs the gateway under `script`, which gives it a terminal as standard output; resolves with what it
   * wrote until it listened. `script` ends the session when its standard input ends: it stays open.
   */
  async function onATerminal(env: Record<string, string>): Promise<string> {
    const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const command = `exec ${process.execPath} --import ${loader} ${join(ROOT, 'src/main.ts')}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: freshDir('first-run'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', API_KEYS: 'tty-key-0123456789ab', JWT_SECRET: 'tty-secret-0123456789abcdef0123456789', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new AbortController();
    const exit = new Promise<void>((done) => child.once('exit', () => done()));
    void exit.then(() => exited.abort(new Error('the gateway exited')));
    onCleanup(async () => {
      child.kill('SIGTERM');
      await exit;
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await waitFor(() => text.includes('gateway listening'), { timeoutMs: 15_000, what: 'the gateway to listen on a terminal', signal: exited.signal })
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\n${text}`);
      });
    return text;
  }

  it('on a terminal in development: human-readable lines; in production: JSON lines', { timeout: 40_000 }, async () => {
    const development = await onATerminal({ NODE_ENV: 'development' });
    const listening = development.split(/\r?\n/).find((line) => line.includes('gateway listening'))!;
    expect(listening).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*gateway listening/);
    expect(() => JSON.parse(listening)).toThrow();

    const production = await onATerminal({ NODE_ENV: 'production' });
    const json = production.split(/\r?\n/).find((line) => line.includes('gateway listening'))!;
    expect(JSON.parse(json)).toMatchObject({ level: 30, msg: 'gateway listening' });
  });
});

describe('LICENSE', () => {
  it('is the licence package.json names', () => {
    const { license } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toBe('MIT');
    expect(text.split('\n')[0]).toBe('MIT License');
    expect(text).toMatch(/^Copyright \(c\) \d{4} /m);
    // The MIT licence's grant and warranty disclaimer, as SPDX words them.
    expect(text.replace(/\s+/g, ' ')).toContain('Permission is hereby granted, free of charge, to any person obtaining a copy of this software');
    expect(text.replace(/\s+/g, ' ')).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });
});
