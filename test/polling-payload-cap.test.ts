import { describe, expect, it } from 'vitest';
import { MAX_PACKETS_PER_POLL } from '../src/realtime/polling-payload-cap.js';
import { api, signToken, startGateway } from './support/gateway.js';

/** Engine.IO v4 long-polling spoken over plain HTTP, as a client in another language does it. */
async function poll(url: string, sid?: string): Promise<string[]> {
  const answer = await fetch(`${url}/socket.io/?EIO=4&transport=polling${sid === undefined ? '' : `&sid=${sid}`}`);
  expect(answer.status).toBe(200);
  return (await answer.text()).split('\x1e');
}

/** Opens an Engine.IO session and connects to `/` as `poller`; resolves with the session id once the CONNECT answer was read. */
async function connectPolling(url: string): Promise<string> {
  const [open] = await poll(url);
  const sid = (JSON.parse(open!.slice(1)) as { sid: string }).sid;
  const token = await signToken({ user_id: 'poller', session_id: 'p1' });
  const sent = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: `40${JSON.stringify({ token })}` });
  expect(sent.status).toBe(200);
  // The CONNECT answer, then the gateway's own first events (e.g. its ready event).
  const first = await poll(url, sid);
  expect(first[0]).toMatch(/^40/);
  return sid;
}

/** The `note` events' data in `packets`, in order. */
function notesIn(packets: readonly string[]): number[] {
  return packets.filter((packet) => packet.startsWith('42')).map((packet) => JSON.parse(packet.slice(2)) as [string, number])
    .filter(([event]) => event === 'note').map(([, data]) => data);
}

describe('long-polling answers of at most 16 packets (src/realtime/polling-payload-cap.ts)', () => {
  it('answers a poll after a batch of 100 with 16 packets at most, and the next polls bring the rest in order', async () => {
    const { url } = await startGateway();
    const sid = await connectPolling(url);

    const batch = Array.from({ length: 100 }, (_, k) => ({ event: 'note', data: k, users: ['poller'] }));
    expect((await api(url, '/v1/batch', { body: batch })).status).toBe(200);
    const notes: number[] = [];
    const sizes: number[] = [];
    while (notes.length < 100 && sizes.length < 20) {
      const packets = await poll(url, sid);
      sizes.push(packets.length);
      notes.push(...notesIn(packets));
    }
    expect(notes).toEqual(Array.from({ length: 100 }, (_, k) => k));
    expect(Math.max(...sizes), `packets per poll answer: ${sizes.join(', ')}`).toBe(MAX_PACKETS_PER_POLL);
  });

  it('still answers everything queued, then the DISCONNECT, when the server disconnects the client right after a burst', async () => {
    const { url } = await startGateway();
    const sid = await connectPolling(url);
    const batch = Array.from({ length: 50 }, (_, k) => ({ event: 'note', data: k, users: ['poller'] }));
    expect((await api(url, '/v1/batch', { body: batch })).status).toBe(200);
    expect((await api(url, '/v1/users/poller/disconnect', { body: {} })).status).toBe(200);
    const packets: string[] = [];
    for (let k = 0; k < 10 && !packets.includes('41') && !packets.includes('1'); k += 1) packets.push(...await poll(url, sid));
    expect(notesIn(packets)).toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(packets, 'the Socket.IO DISCONNECT packet').toContain('41');
  });
});
