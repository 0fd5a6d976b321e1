import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { api, signToken, startGateway } from './support/gateway.js';
import { onCleanup } from './support/cleanup.js';
import { startReceiver } from './support/http-receiver.js';
import { waitFor } from './support/wait.js';

const ROOT = resolve(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'packages/client/examples/quickstart.ts');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

describe("the README's Client SDK example (packages/client/examples/quickstart.ts)", () => {
  it('runs against a gateway: subscribes, lists presence, relays, chats, joins with a token, receives, closes', async () => {
    const { url } = await startGateway({ CLIENT_EVENTS: 'typing' });
    const token = await signToken({ user_id: 'demo', session_id: 'demo-s' });
    const tokenEndpoint = await startReceiver(() => ({ body: token }));
    const minted = await api<{ token: string }>(url, '/v1/join-tokens', { body: { channel: 'news', ttlS: 60 } });
    const child = spawn(process.execPath, ['--import', TSX_LOADER, EXAMPLE], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', SWITCHBOARD_URL: url, TOKEN_URL: `${tokenEndpoint.url}/api/socket-token`, JOIN_TOKEN: minted.body.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    onCleanup(() => void child.kill('SIGKILL'));
    const lines = () => output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { what: string; value: unknown });

    await waitFor(() => lines().some((line) => line.what === 'ready'), { what: 'the example to be ready', timeoutMs: 15_000 })
      .catch((error: Error) => { throw new Error(`${error.message}; it wrote:\n${output}`); });
    await api(url, '/v1/publish', { body: { event: 'order', data: { status: 'shipped' }, rooms: ['orders:42'] } });
    await api(url, '/v1/publish', { body: { event: 'profile:update', data: { name: 'Demo' }, users: ['demo'] } });
    await api(url, '/v1/publish', { body: { event: 'headline', data: 'hello channel', rooms: ['news'] } });
    await waitFor(() => lines().filter((line) => ['orders:42', 'profile:update', 'channel'].includes(line.what)).length === 3, { what: 'the three messages' });
    await api(url, '/v1/publish', { body: { event: 'example:done', users: ['demo'] } });
    expect(await exited, output).toBe(0);

    expect(lines()).toEqual([
      { what: 'state', value: { state: 'connecting' } },
      { what: 'state', value: { state: 'connected' } },
      { what: 'presence', value: [{ userId: 'demo', connections: 1 }] },
      { what: 'chat', value: { id: expect.any(String), delivered: false } },
      { what: 'joined', value: 'news' },
      { what: 'ready', value: true },
      { what: 'orders:42', value: { data: { status: 'shipped' }, id: expect.any(String), offset: 1 } },
      { what: 'profile:update', value: { data: { name: 'Demo' }, id: expect.any(String) } },
      { what: 'channel', value: 'hello channel' },
      { what: 'state', value: { state: 'closed' } },
    ]);
    expect(tokenEndpoint.received.length).toBe(1);
  });
});
