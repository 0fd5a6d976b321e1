import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { onCleanup } from './support/cleanup.js';
import { connectAs, signToken, startGateway } from './support/gateway.js';

/** A raw Engine.IO websocket to the gateway; `frames` collects what the server sends, `closed` resolves with the time of the close. */
function rawSocket(url: string): { ws: WebSocket; frames: string[]; opened: Promise<void>; closed: Promise<number> } {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  onCleanup(() => ws.terminate());
  const frames: string[] = [];
  ws.on('message', (data: Buffer) => frames.push(data.toString()));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now())));
  return { ws, frames, opened, closed };
}

describe('ping and connect timeouts (PING_INTERVAL_MS, PING_TIMEOUT_MS, CONNECT_TIMEOUT_MS)', () => {
  it('an authenticated client that never answers pings is dropped within about a second; a stock client stays', async () => {
    const { url } = await startGateway({ PING_INTERVAL_MS: '200', PING_TIMEOUT_MS: '200' });
    const stock = await connectAs(url, 'pinged-user', 'ps1');
    const raw = rawSocket(url);
    await raw.opened;
    raw.ws.send(`40${JSON.stringify({ token: await signToken({ user_id: 'silent-user', session_id: 'ps2' }) })}`);
    await expect.poll(() => raw.frames.some((frame) => frame.startsWith('40{')), { timeout: 2000 }).toBe(true);
    const connectedAt = Date.now();

    const closedAt = await raw.closed;
    expect(closedAt - connectedAt).toBeLessThan(1000);
    expect(raw.frames).toContain('2'); // it was pinged, and did not answer
    expect(stock.connected).toBe(true); // the stock client answers every ping
  });

  it('with the defaults, a silent client is still connected after a second', async () => {
    const { url } = await startGateway();
    const raw = rawSocket(url);
    await raw.opened;
    raw.ws.send(`40${JSON.stringify({ token: await signToken() })}`);
    await expect.poll(() => raw.frames.some((frame) => frame.startsWith('40{')), { timeout: 2000 }).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    expect(JSON.parse(raw.frames[0]!.slice(1))).toMatchObject({ pingInterval: 25000, pingTimeout: 20000 });
  });

  it('a transport that never joins a namespace is closed after CONNECT_TIMEOUT_MS', async () => {
    const { url } = await startGateway({ CONNECT_TIMEOUT_MS: '300' });
    const raw = rawSocket(url);
    await raw.opened;
    const openedAt = Date.now();
    const closedAt = await raw.closed;
    expect(closedAt - openedAt).toBeGreaterThanOrEqual(250);
    expect(closedAt - openedAt).toBeLessThan(1500);
  });
});
