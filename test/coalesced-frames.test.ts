import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api, connectAs, startGateway } from './support/gateway.js';
import { waitFor } from './support/wait.js';

/** Write-class system calls this process made so far (/proc/self/io `syscw`): the in-process gateway's and its clients'. */
const writeSyscalls = (): number => Number(/^syscw:\s+(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);

describe('coalesced WebSocket frames (src/realtime/coalesced-frames.ts)', () => {
  it('writes a POST /v1/batch of 100 messages to each of 20 WebSocket clients in a few system calls, every message in order', async () => {
    const { url } = await startGateway();
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => connectAs(url, 'reader', `s${i}`, { transports: ['websocket'] })));
    const received = clients.map(() => [] as number[]);
    clients.forEach((client, i) => client.on('note', (data: number) => void received[i]?.push(data)));
    const items = Array.from({ length: 100 }, (_, k) => ({ event: 'note', data: k, users: ['reader'] }));
    const before = writeSyscalls();
    const answer = await api(url, '/v1/batch', { body: items });
    expect(answer.status).toBe(200);
    await waitFor(() => received.every((list) => list.length === 100), { what: 'every message on every client' });
    const writes = writeSyscalls() - before;
    for (const list of received) expect(list).toEqual(items.map((item) => item.data));
    // One frame per write would be 2,000 writes (plus the HTTP exchange); corked, a few per client.
    expect(writes, 'write system calls for 2,000 deliveries').toBeLessThan(400);
  });
});
