import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { CLIENT_BUNDLE_NAME, CLIENT_DIST_DIR, clientBundleRoutes, loadClientBundle } from '../src/http/client-bundle-routes.js';
import { errorHandler } from '../src/http/error-handler.js';
import { createLogger } from '../src/runtime/logger.js';
import { launchBrowser } from './support/browser.js';
import { onCleanup } from './support/cleanup.js';
import { api, signToken, startGateway, type ErrorResponse } from './support/gateway.js';
import { startProxy } from './support/proxy.js';
import { freshDir, unique } from './support/temp.js';

const BUNDLE_PATH = `/client/${CLIENT_BUNDLE_NAME}`;

/** A tiny web server standing for the application's own site: another origin than the gateway's. */
async function startSite(): Promise<{ origin: string; setPage(html: string): void }> {
  let page = '<!doctype html><title>empty</title>';
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, setPage: (html) => void (page = html) };
}

/**
 * The application's page: loads the SDK with a `<script>` tag from the gateway, subscribes to `room` with
 * `Switchboard.createClient`, and records in `window.test` what a test reads — the messages (data and
 * meta.id), the client's states, its socket.io Manager's reconnect attempts. Seed 002's
 * `EventDataClientInstance` connects beside it (Bearer token), with stock socket.io-client reconnection:
 * the control that shows attempts would be made.
 */
function appPage(gateway: string, token: string, room: string): string {
  const settings = JSON.stringify({ url: gateway, token, room });
  return `<!doctype html>
<html><head><title>Switchboard in a page</title>
<script src="${gateway}${BUNDLE_PATH}"></script>
</head><body><script>
  const settings = ${settings};
  const test = window.test = { received: [], states: [], attempts: 0, errors: [], ready: false, seed: { connected: 0, attempts: 0 } };
  const client = Switchboard.createClient({ url: settings.url, getToken: () => settings.token, reconnectionDelay: 50, reconnectionDelayMax: 200 });
  client.on('state', (state) => test.states.push(state.state));
  client.on('error', (error) => test.errors.push(String(error)));
  client.socket.io.on('reconnect_attempt', () => { test.attempts += 1; });
  client.subscribe(settings.room, (data, meta) => test.received.push({ data, id: meta.id })).ready.then(() => { test.ready = true; });

  const seed = new Switchboard.EventDataClientInstance();
  seed.config.host = settings.url;
  seed.config.authentication = { authMode: 'Bearer', auth: settings.token };
  seed.config.options = { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 200, randomizationFactor: 0 };
  seed.onConnect = (connection) => { if (connection.socketConnected && connection.socketId !== '') test.seed.connected += 1; };
  seed.connect();
  seed.socket.io.on('reconnect_attempt', () => { test.seed.attempts += 1; });
</script></body></html>`;
}

interface PageRecord {
  received: { data: number; id: string }[];
  states: string[];
  attempts: number;
  errors: string[];
  ready: boolean;
  seed: { connected: number; attempts: number };
}

const recordOf = (page: Page) => page.evaluate('window.test') as Promise<PageRecord>;

async function until(page: Page, expression: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(expression, { timeout });
}

describe('the Client SDK in Chromium, from a <script> tag the gateway serves', () => {
  it('receives live messages, pauses reconnecting while offline, and gets every message once and in order when back online', async () => {
    const site = await startSite();
    // The page's origin is not the gateway's: the socket's handshake must be allowed by CORS_ORIGIN.
    const { url } = await startGateway({ CORS_ORIGIN: site.origin });
    // The page reaches the gateway through a proxy the test can cut.
    const proxy = await startProxy(url);
    const token = await signToken({ user_id: unique('browser-user') });
    const room = unique('room');
    site.setPage(appPage(proxy.url, token, room));

    const browser = await launchBrowser();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => void pageErrors.push(String(error)));
    await page.goto(`${site.origin}/`);
    expect(await page.evaluate('typeof window.Switchboard.createClient')).toBe('function');
    expect(await page.evaluate('typeof window.Switchboard.EventDataClientInstance')).toBe('function');
    await until(page, 'window.test.ready && window.test.seed.connected === 1');

    const sent: string[] = [];
    const publish = async (i: number) => {
      const response = await api<{ id: string }>(url, '/v1/publish', { body: { event: 'note', data: i, rooms: [room] } });
      expect(response.status).toBe(200);
      sent.push(response.body.id);
    };
    for (let i = 0; i < 5; i++) await publish(i);
    await until(page, 'window.test.received.length === 5');

    // DevTools offline emulation: navigator.onLine turns false, `offline` fires, new connections fail. It
    // leaves an open WebSocket alone (one stayed up for seconds). engine.io-client closes its transport on
    // `offline` itself, but only the first of a page's connections (6.6.8 splices its listener list while
    // iterating it): the proxy cuts them all, as the network going away would.
    await page.setOfflineMode(true);
    expect(await page.evaluate('navigator.onLine')).toBe(false);
    proxy.dropConnections();
    await until(page, "window.test.states.at(-1) === 'reconnecting'");
    for (let i = 5; i < 25; i++) await publish(i);
    // Seed 002's client, stock socket.io-client reconnection, keeps trying (each attempt failing offline)…
    await until(page, 'window.test.seed.attempts >= 3');
    // …while the SDK's client made no attempt at all.
    let record = await recordOf(page);
    expect(record.attempts).toBe(0);
    expect(record.received).toHaveLength(5);
    expect(record.states.at(-1)).toBe('reconnecting');

    // Back online: `online` reconnects at once (no backoff left to wait), and what was missed arrives.
    await page.setOfflineMode(false);
    await until(page, 'window.test.received.length >= 25');
    await until(page, 'window.test.seed.connected === 2');
    // A marker after everything: whatever could arrive twice would have arrived before it.
    await publish(25);
    await until(page, 'window.test.received.some((message) => message.data === 25)');
    record = await recordOf(page);
    expect(record.received.map((message) => message.id)).toEqual(sent);
    expect(record.received.map((message) => message.data)).toEqual([...Array(26).keys()]);
    expect(record.states.filter((state) => state === 'connected')).toHaveLength(2);
    expect(record.errors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

describe(`GET ${BUNDLE_PATH}`, () => {
  const built = readFileSync(new URL(CLIENT_BUNDLE_NAME, CLIENT_DIST_DIR));

  it('serves the built bundle as JavaScript with an ETag and a short, revalidated cache; 304 while unchanged', async () => {
    const { url } = await startGateway();
    const response = await fetch(`${url}${BUNDLE_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300, must-revalidate');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = response.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(Buffer.from(await response.arrayBuffer()).equals(built)).toBe(true);

    const again = await fetch(`${url}${BUNDLE_PATH}`, { headers: { 'if-none-match': `W/"other", ${etag}` } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    expect((await fetch(`${url}${BUNDLE_PATH}`, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);

    // Its source map, where the bundle says it is.
    expect(built.toString('utf8')).toMatch(/\/\/# sourceMappingURL=switchboard\.min\.js\.map\s*$/);
    const map = await fetch(`${url}${BUNDLE_PATH}.map`);
    expect(map.status).toBe(200);
    expect(map.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await map.json()) as { version: number }).toMatchObject({ version: 3 });
  });

  it('is linked from the API reference while served, and gone with CLIENT_BUNDLE=false', async () => {
    const on = await startGateway();
    const description = (await api<{ info: { description: string } }>(on.url, '/openapi.json')).body.info.description;
    expect(description).toContain('<script src="/client/switchboard.min.js"></script>');
    expect(description).toContain('Client SDK');

    const off = await startGateway({ CLIENT_BUNDLE: 'false' });
    const refused = await api<ErrorResponse>(off.url, BUNDLE_PATH);
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('NOT_FOUND');
    expect((await api<{ info: { description: string } }>(off.url, '/openapi.json')).body.info.description).not.toContain(BUNDLE_PATH);
  });

  it('answers NOT_FOUND saying to build it, after one warning at start, when the bundle was not built', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const bundle = loadClientBundle(new URL(`file://${freshDir('no-client-build')}/`));
    expect(bundle).toBeUndefined();
    const app = Fastify();
    app.setErrorHandler(errorHandler);
    await app.register(clientBundleRoutes, { prefix: '/client', bundle, logger });
    onCleanup(() => app.close());
    const warnings = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level === 40);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.msg).toMatch(/npm run build/);
    for (const path of [BUNDLE_PATH, `${BUNDLE_PATH}.map`]) {
      const response = await app.inject({ method: 'GET', url: path });
      expect(response.statusCode).toBe(404);
      const body = response.json<ErrorResponse>();
      expect(body.error.code).toBe('NOT_FOUND');
      expect(body.error.message).toMatch(/npm run build/);
    }
    expect(warnings()).toHaveLength(1); // at start, not per request
  });
});
