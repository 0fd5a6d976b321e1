import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ADVISORY_PACKETS, oversizedFrame } from './support/fuzz-corpus.js';
import { feed, feedCorpus } from './support/fuzz-feed.js';
import { api, connectAs, connectClient, signToken, startGateway } from './support/gateway.js';
import { sleep, waitFor } from './support/wait.js';

// A forced collection, in this process (where the gateway runs): growth is measured after it.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function heapAfterCollection(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Client events are not rate limited here, so every hostile event reaches the gateway's handlers. */
// The fuzz traffic is thousands of connections of one user from one address, many of them failing their
// handshakes: the connection limits and the failed-handshake limits (test/handshake-floods.test.ts) are off here.
const ENV = {
  LOG_LEVEL: 'silent', CLIENT_EVENTS_PER_SECOND: '100000', CONNECTIONS_PER_IP_PER_S: '0', MAX_CONNECTIONS_PER_USER: '0',
  MAX_FAILED_HANDSHAKES_PER_CONNECTION: '0', FAILED_HANDSHAKES_PER_IP_PER_MIN: '0',
};
const MAX_PAYLOAD_BYTES = 1_048_576;

describe('hostile input', () => {
  it('survives the advisories\' crash packets and oversized frames on both transports, authenticated or not', async () => {
    const { url } = await startGateway(ENV);
    const token = await signToken({ user_id: 'attacker' });
    const oversized = [oversizedFrame(MAX_PAYLOAD_BYTES)];
    for (const transport of ['websocket', 'polling'] as const) {
      for (const frames of [...ADVISORY_PACKETS, oversized]) {
        await feed(url, transport, frames, token);
        await feed(url, transport, frames);
      }
    }
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const client = await connectAs(url, 'after', 'after-session');
    expect(client.connected).toBe(true);
  });

  it('keeps serving through 100,000 random and mutated packets, and its heap comes back near its baseline', async () => {
    const { url } = await startGateway(ENV);
    const token = await signToken({ user_id: 'attacker' });
    // A bystander: a stock client that must receive every publish made while the fuzz runs.
    const bystander = await connectClient(url, await signToken({ user_id: 'bystander' }));
    const received: number[] = [];
    bystander.on('tick', (n: number) => received.push(n));

    // Warm-up (code paths compiled, pools filled), then the baseline.
    await feedCorpus(url, { token, packets: 4000, batch: 50, concurrency: 8, seed: 1 });
    const baseline = heapAfterCollection();

    let published = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const response = await api(url, '/v1/publish', { body: { event: 'tick', users: ['bystander'], data: published } });
        expect(response.status).toBe(200);
        published += 1;
        await sleep(20);
      }
    })();
    const started = Date.now();
    const result = await feedCorpus(url, { token, packets: 100_000, batch: 50, concurrency: 8, seed: 11 });
    publishing = false;
    await publisher;

    // Every packet was generated and written to an open connection (or the server closed it first).
    expect(result.connections).toBe(2000);
    expect(result.sent).toBeGreaterThan(90_000);
    expect(published).toBeGreaterThan(10);
    await waitFor(() => expect(received).toEqual(Array.from({ length: published }, (_, i) => i)));
    expect(bystander.connected).toBe(true);

    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await connectAs(url, 'after', 'after-session')).connected).toBe(true);
    // Every hostile session is closed: nothing they sent is kept. 16 MB is noise here (the corpus itself
    // is generated in this process, about 100 MB over the run).
    const growth = await waitFor(() => {
      const grown = heapAfterCollection() - baseline;
      expect(grown).toBeLessThan(16 * 1024 * 1024);
      return grown;
    }, { timeoutMs: 5000, intervalMs: 250 });
    console.info(`hostile input: ${result.sent} frames on ${result.connections} connections in ${Date.now() - started} ms; heap ${(growth / 1048576).toFixed(1)} MB over baseline`);
  }, 60_000);
});
