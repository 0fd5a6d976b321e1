import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { onCleanup } from './support/cleanup.js';
import { connectAs, signToken, startGateway } from './support/gateway.js';

/** A raw websocket connected to `/` with a fresh token; `frames` collects every frame the server sends. */
async function rawConnected(url: string): Promise<{ ws: WebSocket; frames: string[]; closed: Promise<void> }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  onCleanup(() => ws.terminate());
  const frames: string[] = [];
  ws.on('message', (data: Buffer) => frames.push(data.toString()));
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(`40${JSON.stringify({ token: await signToken() })}`);
  await expect.poll(() => frames.some((frame) => frame.startsWith('40{'))).toBe(true);
  return { ws, frames, closed };
}

describe('acknowledgement ids', () => {
  it.each([
    ['400 digits (decoded as Infinity)', '4'.repeat(400)],
    ['one past Number.MAX_SAFE_INTEGER', '9007199254740992'],
  ])('a packet whose ack id is %s closes the connection unanswered; the node serves everyone else', async (_name, id) => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const bystander = await connectAs(url, 'bystander', 'b1');
    const raw = await rawConnected(url);

    raw.ws.send(`42${id}["room/join-room","lobby"]`);
    await Promise.race([raw.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 3 s')), 3000))]);

    expect(raw.frames.filter((frame) => frame.startsWith('43'))).toEqual([]);
    expect(raw.frames.some((frame) => frame.includes('joined-room'))).toBe(false); // never dispatched
    expect(await bystander.emitWithAck('room/join-room', 'lobby')).toMatchObject({ ok: true, room: 'lobby' });
  });

  it('the largest safe ack id is answered with that id', async () => {
    const { url } = await startGateway({ PUBLIC_ROOMS: '*' });
    const raw = await rawConnected(url);
    raw.ws.send(`42${Number.MAX_SAFE_INTEGER}["room/join-room","lobby"]`);
    await expect.poll(() => raw.frames.find((frame) => frame.startsWith('43'))).toMatch(new RegExp(`^43${Number.MAX_SAFE_INTEGER}\\[\\{"ok":true,"status":true,"message":"Joined room: lobby","room":"lobby","user":"[\\w-]+"\\}\\]$`));
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
  });
});
