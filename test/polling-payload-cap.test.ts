import { describe, expect, it } from 'vitest';
import { MAX_PACKETS_PER_POLL } from '../src/realtime/polling-payload-cap.js';
import { api, signToken, startGateway } from './support/gateway.js';

/** Engine.IO v4 long-polling spoken over plain HTTP, as a client in another language does it. */
async function poll(url: string, sid?: string): Promise<string[]> {
  const answer = await fetch(`${url}/socket.io/?EIO=4&transport=polling${sid === undefined ? '' : `&sid=${sid}`}`);
  expect(answer.status).toBe(200);
  return (await answer.text()).split('\x1e');
}

describe('long-polling answers of at most 16 packets (src/realtime/polling-payload-cap.ts)', () => {
  it('answers a poll after a batch of 100 with 16 packets at most, and the next polls bring the rest in order', async () => {
    const { url } = await startGateway();
    const [open] = await poll(url);
    const sid = (JSON.parse(open!.slice(1)) as { sid: string }).sid;
    const token = await signToken({ user_id: 'poller', session_id: 'p1' });
    const sent = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: `40${JSON.stringify({ token })}` });
    expect(sent.status).toBe(200);
    // The CONNECT answer, then the gateway's own first events (e.g. its ready event).
    const first = await poll(url, sid);
    expect(first[0]).toMatch(/^40/);

    const batch = Array.from({ length: 100 }, (_, k) => ({ event: 'note', data: k, users: ['poller'] }));
    expect((await api(url, '/v1/batch', { body: batch })).status).toBe(200);
    const notes: number[] = [];
    const sizes: number[] = [];
    while (notes.length < 100 && sizes.length < 20) {
      const packets = await poll(url, sid);
      sizes.push(packets.length);
      for (const packet of packets) {
        if (!packet.startsWith('42')) continue;
        const [event, data] = JSON.parse(packet.slice(2)) as [string, number];
        if (event === 'note') notes.push(data);
      }
    }
    expect(notes).toEqual(Array.from({ length: 100 }, (_, k) => k));
    expect(Math.max(...sizes), `packets per poll answer: ${sizes.join(', ')}`).toBe(MAX_PACKETS_PER_POLL);
  });
});
