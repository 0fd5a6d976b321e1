import type { Socket as EngineSocket } from 'engine.io';
import { describe, expect, it } from 'vitest';
import { api, connectAs, startGateway, type TestGateway } from './support/gateway.js';
import { sleep, waitFor } from './support/wait.js';

/** Counts the `message` packets engine.io builds for the connections made from now on (its own path; the direct one builds none). */
function countEnginePackets(gateway: TestGateway['gateway']): { messages: number } {
  const counter = { messages: 0 };
  gateway.io.engine.on('connection', (socket: EngineSocket) => socket.on('packetCreate', (packet: { type: string }) => {
    if (packet.type === 'message') counter.messages += 1;
  }));
  return counter;
}

/**
 * A gateway with `count` WebSocket clients of user `reader`, each recording the `note` events it receives,
 * and the engine.io packets built from now on (counted from 0 once the handshakes' own are written).
 */
async function readers(count: number) {
  const { url, gateway } = await startGateway();
  const packets = countEnginePackets(gateway);
  const clients = await Promise.all(Array.from({ length: count }, (_, i) => connectAs(url, 'reader', `s${i}`, { transports: ['websocket'] })));
  const received = clients.map(() => [] as number[]);
  clients.forEach((client, i) => client.on('note', (data: number) => void received[i]?.push(data)));
  await sleep(100); // the connect handshake's own packets are written by now
  packets.messages = 0;
  return { url, packets, received };
}

describe('broadcast frames written straight to idle WebSocket connections (src/realtime/broadcast-frames.ts)', () => {
  it('delivers a publish to 30 idle WebSocket clients without engine.io building a packet per client', async () => {
    const { url, packets, received } = await readers(30);
    for (let k = 0; k < 5; k += 1) {
      expect((await api(url, '/v1/publish', { body: { event: 'note', data: k, users: ['reader'] } })).status).toBe(200);
    }
    await waitFor(() => received.every((list) => list.length === 5), { what: 'five messages on every client' });
    for (const list of received) expect(list).toEqual([0, 1, 2, 3, 4]);
    // engine.io's path would build 150 packets; a library update that renames what the direct path reads
    // (the transport's `writable`, ws's `_socket` / `_sender`) sends everything that way again, and this fails.
    expect(packets.messages, 'message packets built by engine.io').toBe(0);
  });

  it('keeps the order when messages reach a connection faster than it is written: a batch and publishes in one tick', async () => {
    const { url, packets, received } = await readers(5);
    const batch = Array.from({ length: 50 }, (_, k) => ({ event: 'note', data: k, users: ['reader'] }));
    const answers = await Promise.all([
      api(url, '/v1/batch', { body: batch }),
      api(url, '/v1/batch', { body: batch.map((item) => ({ ...item, data: item.data + 50 })) }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    await waitFor(() => received.every((list) => list.length === 100), { what: 'a hundred messages on every client' });
    for (const list of received) expect(list).toEqual(Array.from({ length: 100 }, (_, k) => k));
    // The first message of each burst goes straight out; the rest queue in engine.io behind it, as before.
    expect(packets.messages).toBeGreaterThan(0);
  });

  it('delivers in order to a client that starts on long-polling and upgrades to WebSocket while messages flow', async () => {
    const { url } = await startGateway();
    const client = await connectAs(url, 'upgrader', 's1');
    const received: number[] = [];
    client.on('note', (data: number) => void received.push(data));
    for (let k = 0; k < 60; k += 1) {
      await api(url, '/v1/publish', { body: { event: 'note', data: k, users: ['upgrader'] } });
      if (k % 10 === 0) await sleep(20);
    }
    await waitFor(() => received.length === 60, { what: 'sixty messages' });
    expect(received).toEqual(Array.from({ length: 60 }, (_, k) => k));
    expect(client.io.engine.transport.name).toBe('websocket');
  });
});
