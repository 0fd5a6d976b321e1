import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../src/protocol/errors.js';
import { createLogger } from '../src/runtime/logger.js';
import { WebhookSender, type WebhookSenderOptions } from '../src/webhooks/webhook-sender.js';
import { verifyWebhookSignature } from '../src/webhooks/webhook-signature.js';
import { onCleanup } from './support/cleanup.js';
import { UUID } from './support/gateway.js';
import { startReceiver, type ReceivedRequest } from './support/http-receiver.js';
import { waitFor } from './support/wait.js';

const SECRET = 'whsec-test-3b9f1c0e7a5d';

/** A sender with small test timings, logging into `logs`; closed after the test. */
function startSender(options: WebhookSenderOptions = {}) {
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
  const sender = new WebhookSender({ secret: SECRET, timeoutMs: 2_000, backoffMs: 10, maxBackoffMs: 50, ...options }, logger);
  onCleanup(() => sender.close(1_000));
  return { sender, logs };
}

/** Waits until `count` deliveries were delivered, given up or dropped. */
async function settled(sender: WebhookSender, count: number): Promise<void> {
  await waitFor(() => {
    const { delivered, failed, dropped } = sender.stats();
    return delivered + failed + dropped >= count;
  }, { intervalMs: 10, what: `${count} deliveries settled` });
}

function header(request: ReceivedRequest | undefined, name: string): string {
  const value = request?.headers[name.toLowerCase()];
  if (typeof value !== 'string') throw new Error(`no ${name} header`);
  return value;
}

describe('WebhookSender delivery', () => {
  it('POSTs the JSON body signed as documented: sha256= HMAC-SHA256 of `${timestamp}.${body}`', async () => {
    const receiver = await startReceiver();
    const { sender } = startSender();
    const payload = { channel: 'orders:42', event: 'note', data: { text: 'héllo ✓' }, socketId: 'abc', ts: 1 };
    const id = sender.send(`${receiver.url}/hook?x=1`, payload);
    await settled(sender, 1);

    const request = receiver.received[0];
    expect(receiver.received).toHaveLength(1);
    expect(request?.path).toBe('/hook?x=1');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual(payload);
    expect(header(request, 'X-Switchboard-Delivery')).toBe(id);
    expect(id).toMatch(UUID);
    const timestamp = header(request, 'X-Switchboard-Timestamp');
    expect(timestamp).toMatch(/^\d+$/);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${request?.body}`).digest('hex');
    expect(header(request, 'X-Switchboard-Signature')).toBe(`sha256=${expected}`);
    expect(verifyWebhookSignature(SECRET, { signature: `sha256=${expected}`, timestamp, body: request?.body ?? '' })).toBe(true);
    expect(verifyWebhookSignature('other-secret', { signature: `sha256=${expected}`, timestamp, body: request?.body ?? '' })).toBe(false);
    expect(verifyWebhookSignature(SECRET, { signature: `sha256=${expected}`, timestamp, body: `${request?.body} ` })).toBe(false);
    expect(verifyWebhookSignature(SECRET, { signature: `sha256=${expected}`, timestamp, body: request?.body ?? '' }, { nowS: Number(timestamp) + 301 })).toBe(false);
    expect(sender.stats()).toMatchObject({ delivered: 1, failed: 0, pending: 0, inFlight: 0 });
  });

  it('a per-send secret wins; without any secret the request is unsigned', async () => {
    const receiver = await startReceiver();
    const { sender } = startSender({ secret: undefined });
    sender.send(receiver.url, { a: 1 }, { secret: 'per-send' });
    sender.send(receiver.url, { a: 2 });
    await settled(sender, 2);
    const signed = receiver.received.find((request) => request.body === '{"a":1}');
    const unsigned = receiver.received.find((request) => request.body === '{"a":2}');
    const timestamp = header(signed, 'X-Switchboard-Timestamp');
    expect(verifyWebhookSignature('per-send', { signature: header(signed, 'X-Switchboard-Signature'), timestamp, body: '{"a":1}' })).toBe(true);
    expect(unsigned?.headers['x-switchboard-signature']).toBeUndefined();
  });

  it('send() returns before the receiver answers', async () => {
    const receiver = await startReceiver();
    receiver.hold();
    const { sender } = startSender();
    const id = sender.send(receiver.url, { event: 'x' });
    expect(id).toMatch(UUID);
    await waitFor(() => receiver.received.length === 1, { intervalMs: 10, what: 'the first request' });
    expect(sender.stats()).toMatchObject({ delivered: 0, inFlight: 1 });
    receiver.release();
    await settled(sender, 1);
    expect(sender.stats().delivered).toBe(1);
  });

  it('retries a 500 and delivers once, with the same delivery id and a fresh signature', async () => {
    const receiver = await startReceiver([500, 200]);
    const { sender } = startSender();
    const id = sender.send(receiver.url, { n: 1 });
    await settled(sender, 1);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received.map((request) => header(request, 'X-Switchboard-Delivery'))).toEqual([id, id]);
    for (const request of receiver.received) {
      const ok = verifyWebhookSignature(SECRET, {
        signature: header(request, 'X-Switchboard-Signature'), timestamp: header(request, 'X-Switchboard-Timestamp'), body: request.body,
      });
      expect(ok).toBe(true);
    }
    expect(sender.stats()).toMatchObject({ delivered: 1, failed: 0 });
  });

  it('honours Retry-After on a 429 instead of its own (here long) backoff', async () => {
    const receiver = await startReceiver([{ status: 429, headers: { 'retry-after': '0' } }, 200]);
    const { sender } = startSender({ backoffMs: 60_000, maxBackoffMs: 60_000 });
    sender.send(receiver.url, { n: 1 });
    await settled(sender, 1);
    expect(receiver.received).toHaveLength(2);
    expect(sender.stats().delivered).toBe(1);
  });

  it('does not retry a 400, and logs one warn line with host, status and attempts', async () => {
    const receiver = await startReceiver([400, 200]);
    const { sender, logs } = startSender();
    sender.send(`${receiver.url}/hook`, { n: 1 });
    await settled(sender, 1);
    expect(receiver.received).toHaveLength(1);
    expect(sender.stats()).toMatchObject({ delivered: 0, failed: 1 });
    const warnings = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 40);
    expect(warnings).toEqual([expect.objectContaining({ host: new URL(receiver.url).host, status: 400, attempts: 1 })]);
  });

  it('gives up after maxAttempts on a receiver that keeps failing', async () => {
    const receiver = await startReceiver([503]);
    const { sender } = startSender({ maxAttempts: 3 });
    sender.send(receiver.url, { n: 1 });
    await settled(sender, 1);
    expect(receiver.received).toHaveLength(3);
    expect(sender.stats()).toMatchObject({ delivered: 0, failed: 1 });
  });

  it('times out a hanging receiver and retries', async () => {
    const receiver = await startReceiver(['hang', 200]);
    const { sender, logs } = startSender({ timeoutMs: 100 });
    const id = sender.send(receiver.url, { n: 1 });
    await settled(sender, 1);
    expect(receiver.received.map((request) => header(request, 'X-Switchboard-Delivery'))).toEqual([id, id]);
    expect(sender.stats()).toMatchObject({ delivered: 1, failed: 0 });
    expect(logs.filter((line) => line.includes('"level":40'))).toEqual([]);
  });

  it('retries network errors and names the error code when it gives up', async () => {
    const receiver = await startReceiver();
    const deadUrl = receiver.url;
    await receiver.close(); // the receiver is gone: connections are refused
    const { sender, logs } = startSender({ maxAttempts: 2 });
    sender.send(deadUrl, { n: 1 });
    await settled(sender, 1);
    const warning = logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 40);
    expect(warning).toMatchObject({ attempts: 2, error: 'ECONNREFUSED' });
  });
});

describe('WebhookSender URL check', () => {
  const refusal = (sender: WebhookSender, url: string): unknown => {
    try {
      sender.check(url);
      return undefined;
    } catch (error) {
      return error;
    }
  };

  it('refuses URLs that are not http(s), hold credentials or do not parse', () => {
    const { sender } = startSender();
    for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'file:///etc/passwd', 'not a url', 'http://user:pass@example.com/']) {
      const error = refusal(sender, url);
      expect(isGatewayError(error), url).toBe(true);
      expect(error).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN', status: 400 });
    }
    expect(() => sender.send('ftp://example.com/x', {})).toThrow(/webhook URL/);
    expect(sender.check('https://example.com/hook').host).toBe('example.com');
  });

  it('refuses hosts outside allowedHosts (exact names and *.suffix subdomains)', () => {
    const { sender } = startSender({ allowedHosts: ['hooks.example.com', '*.example.org', '127.0.0.1:8080'] });
    for (const url of ['https://hooks.example.com/a', 'https://HOOKS.example.com/a', 'https://a.example.org/', 'https://a.b.example.org/', 'http://127.0.0.1:8080/']) {
      expect(refusal(sender, url), url).toBeUndefined();
    }
    for (const url of ['https://evil.com/', 'https://example.org/', 'https://evilexample.org/', 'https://example.org.evil.com/', 'https://x.hooks.example.com/', 'http://127.0.0.1:9090/']) {
      expect(refusal(sender, url), url).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN', details: { reason: 'host' } });
    }
  });
});

describe('WebhookSender bounds', () => {
  it('drops the oldest pending delivery past maxPending, with a warn log counting the drops', async () => {
    const receiver = await startReceiver();
    receiver.hold();
    const { sender, logs } = startSender({ concurrency: 1, maxPending: 2 });
    sender.send(receiver.url, { n: 'a' }); // in flight at once: the receiver holds it
    sender.send(receiver.url, { n: 'b' });
    sender.send(receiver.url, { n: 'c' });
    sender.send(receiver.url, { n: 'd' }); // the queue holds b and c: b is dropped
    expect(sender.stats()).toMatchObject({ pending: 2, inFlight: 1, dropped: 1 });
    await waitFor(() => receiver.received.length === 1, { intervalMs: 10, what: 'the first request' });
    receiver.release(); // later requests are answered at once
    await settled(sender, 4);
    expect(receiver.received.map((request) => JSON.parse(request.body) as unknown)).toEqual([{ n: 'a' }, { n: 'c' }, { n: 'd' }]);
    const drops = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.dropped !== undefined);
    expect(drops).toEqual([expect.objectContaining({ level: 40, dropped: 1, maxPending: 2 })]);
  });

  it('close() stops accepting and waits for deliveries in flight', async () => {
    const receiver = await startReceiver();
    receiver.hold();
    const { sender } = startSender();
    sender.send(receiver.url, { n: 1 });
    await waitFor(() => receiver.received.length === 1, { intervalMs: 10, what: 'the first request' });
    const closed = sender.close(5_000);
    expect(sender.send(receiver.url, { n: 2 })).toBeUndefined();
    receiver.release();
    await closed;
    expect(sender.stats()).toMatchObject({ delivered: 1, inFlight: 0, pending: 0 });
    expect(receiver.received).toHaveLength(1);
  });

  it('close() gives up at its timeout, aborting what is in flight, with one warn line', async () => {
    const receiver = await startReceiver(['hang']);
    const { sender, logs } = startSender({ timeoutMs: 10_000 });
    sender.send(receiver.url, { n: 1 });
    await waitFor(() => receiver.received.length === 1, { intervalMs: 10, what: 'the first request' });
    await sender.close(50);
    expect(sender.stats()).toMatchObject({ delivered: 0, failed: 1, inFlight: 0, pending: 0 });
    const warnings = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 40);
    expect(warnings).toEqual([expect.objectContaining({ abandoned: 1 })]);
  });
});

describe('WebhookSender logs', () => {
  it('never contain the secret, the body or the query string', async () => {
    const receiver = await startReceiver([400, 503]);
    const { sender, logs } = startSender({ maxAttempts: 2, concurrency: 1, maxPending: 1 });
    const url = `${receiver.url}/hooks/secret-path?token=query-token-7f2a`;
    sender.send(url, { marker: 'body-marker-91c4' });
    sender.send(url, { marker: 'body-marker-91c4' });
    sender.send(url, { marker: 'body-marker-91c4' }); // drops one
    await settled(sender, 3);
    await sender.close(1_000);
    expect(logs.length).toBeGreaterThanOrEqual(3);
    const text = logs.join('\n');
    for (const secretish of [SECRET, 'query-token-7f2a', 'secret-path', 'body-marker-91c4']) expect(text).not.toContain(secretish);
  });
});
