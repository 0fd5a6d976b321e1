import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_KEY, login, loginOk, refresh, startAuthGateway } from './support/auth.js';
import { problemsOf } from './support/config.js';
import {
  api, connectAs, expectConnectError, nextEvent, openClient, signToken, startGateway, TEST_API_KEY, type ErrorResponse,
} from './support/gateway.js';
import { scrape, scrapeUrl, type Scrape } from './support/prometheus.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { waitFor } from './support/wait.js';

/**
 * Prometheus metrics (docs/operations.md#metrics): `GET /metrics` parsed with a Prometheus exposition
 * parser, counters moving by exactly the amount known traffic makes, gauges read at scrape time, the key,
 * the keyless METRICS_PORT listener, METRICS=false, the auth service's metrics and the Redis engine's.
 */

/** Joins `room` and resolves once the gateway acked it. */
async function join(socket: Socket, room: string): Promise<void> {
  const answer = (await socket.emitWithAck('room/join-room', room)) as { ok?: boolean };
  if (answer.ok !== true) throw new Error(`join ${room} refused: ${JSON.stringify(answer)}`);
}

/** How much a counter (its series matching `labels`, summed) moved between two scrapes. */
function moved(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return after.value(name, labels) - before.value(name, labels);
}

describe('GET /metrics after known traffic', () => {
  it('counts 3 connections, 5 publishes to their room, the messages handed to them and 2 refused handshakes', async () => {
    const { url } = await startGateway();
    const before = await scrape(url);
    const room = unique('chat:metrics');
    const clients = await Promise.all(['ana', 'ben', 'cy'].map((user) => connectAs(url, user, unique('session'))));
    for (const client of clients) await join(client, room);
    const arrivals = clients.map((client) => counted(client, 'tick'));
    for (let n = 1; n <= 5; n += 1) {
      const published = await api(url, '/v1/publish', { body: { event: 'tick', data: { n }, rooms: [room] } });
      expect(published.status).toBe(200);
    }
    await waitFor(() => arrivals.every((arrived) => arrived() === 5), { what: 'every client to get the 5 ticks' });
    for (let i = 0; i < 2; i += 1) {
      const refusal = await expectConnectError(url, { auth: { token: await signToken({}, { secret: 'another-secret-of-enough-length' }) } });
      expect(refusal.data?.code).toBe('TOKEN_INVALID');
    }
    const after = await scrape(url);

    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'v1', outcome: 'ok' })).toBe(5);
    // The estimate: the room's sockets on this node when each message was emitted, 3 × 5.
    expect(moved(before, after, 'switchboard_messages_delivered_total')).toBe(15);
    expect(after.histogram('switchboard_publish_duration_seconds', { surface: 'v1' }).count - before.histogram('switchboard_publish_duration_seconds', { surface: 'v1' }).count).toBe(5);
    const duration = after.histogram('switchboard_publish_duration_seconds', { surface: 'v1' });
    expect(duration.sum).toBeGreaterThan(0);
    expect(duration.buckets['+Inf']).toBe(duration.count);
    expect(moved(before, after, 'switchboard_history_appends_total')).toBe(5);
    expect(moved(before, after, 'switchboard_handshakes_total', { result: 'ok' })).toBe(3);
    expect(moved(before, after, 'switchboard_handshakes_total', { result: 'TOKEN_INVALID' })).toBe(2);
    expect(moved(before, after, 'switchboard_client_events_total', { kind: 'room/join-room', outcome: 'ok' })).toBe(3);
    // Gauges of current state: read when scraped.
    expect(after.value('switchboard_connections', { namespace: '/', transport: 'websocket' })).toBe(3);
    expect(after.value('switchboard_connections', { namespace: '/', transport: 'polling' })).toBe(0);
    expect(after.value('switchboard_rooms', { kind: 'joined' })).toBe(1);
    expect(after.value('switchboard_presence_users')).toBe(3);
    expect(after.value('switchboard_engine_ready')).toBe(1);

    // A disconnect: counted by reason, and the gauge follows.
    clients[0]!.disconnect();
    const gone = await waitFor(async () => {
      const now = await scrape(url);
      return now.value('switchboard_connections', { namespace: '/' }) === 2 && now;
    }, { what: 'the connections gauge to show 2' });
    expect(moved(after, gone, 'switchboard_disconnects_total', { reason: 'client namespace disconnect' })).toBe(1);
    expect(gone.value('switchboard_presence_users')).toBe(2);
  });

  it('labels every series with the node id, and each gateway in a process counts only its own traffic', async () => {
    const [a, b] = await Promise.all([startGateway(), startGateway()]);
    const nodeOf = async (url: string) => (await api<{ node: { id: string } }>(url, '/v1/stats')).body.node.id;
    const [idA, idB] = await Promise.all([nodeOf(a.url), nodeOf(b.url)]);
    const beforeB = await scrape(b.url);
    expect((await api(a.url, '/v1/publish', { body: { event: 'e', broadcast: true } })).status).toBe(200);
    const [scrapeA, scrapeB] = await Promise.all([scrape(a.url), scrape(b.url)]);
    expect(scrapeA.samples.length).toBeGreaterThan(100);
    expect(scrapeA.samples.filter((sample) => sample.labels.node !== idA)).toEqual([]);
    expect(scrapeB.samples.filter((sample) => sample.labels.node !== idB)).toEqual([]);
    expect(scrapeA.value('switchboard_publishes_total', { outcome: 'ok' })).toBe(1);
    expect(moved(beforeB, scrapeB, 'switchboard_publishes_total')).toBe(0);
    // The default process metrics, event-loop lag included.
    expect(scrapeA.family('process_cpu_user_seconds_total').type).toBe('COUNTER');
    expect(scrapeA.family('nodejs_eventloop_lag_seconds').type).toBe('GAUGE');
    expect(scrapeA.family('switchboard_publish_duration_seconds').type).toBe('HISTOGRAM');
    // Off unless the auth service is on.
    expect(scrapeA.families.some((family) => family.name.startsWith('switchboard_auth_'))).toBe(false);
  });

  it('counts publishes by surface and outcome: refusals as the catalog code answered, batch items one by one, socket sends', async () => {
    const { url } = await startGateway();
    const before = await scrape(url);
    expect((await api(url, '/v1/publish', { body: { event: 'e', users: ['u'] }, key: null })).status).toBe(401);
    expect((await api(url, '/v1/publish', { body: { event: 'e' } })).status).toBe(400);
    const batch = await api<{ results: unknown[] }>(url, '/v1/batch', { body: [{ event: 'e', users: ['u'] }, { event: 'e' }] });
    expect(batch.status).toBe(200);
    expect((await api(url, '/api/socket/events', { body: { channel: 'c', event: 'e' } })).status).toBe(200);
    expect((await api(url, '/internal/emit', { body: { userId: 'u', event: 'not-an-internal-event' } })).status).toBe(400);
    const socket = await connectAs(url, 'dee', unique('session'));
    const room = unique('room');
    await join(socket, room);
    expect(await socket.emitWithAck('room/send-message', { room, message: 'hi' })).toMatchObject({ ok: true });
    expect(await socket.emitWithAck('room/send-message', { room: unique('not-joined'), message: 'hi' })).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
    const after = await scrape(url);

    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'v1', outcome: 'API_KEY_MISSING' })).toBe(1);
    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'v1', outcome: 'NO_TARGET' })).toBe(2); // one request, one batch item
    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'v1', outcome: 'ok' })).toBe(1);
    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'channel-events', outcome: 'ok' })).toBe(1);
    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'internal', outcome: 'EVENT_NOT_ALLOWED' })).toBe(1);
    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'socket', outcome: 'ok' })).toBe(1);
    expect(moved(before, after, 'switchboard_publishes_total', { surface: 'socket', outcome: 'ROOM_FORBIDDEN' })).toBe(1);
    expect(moved(before, after, 'switchboard_client_events_total', { kind: 'room/send-message', outcome: 'ROOM_FORBIDDEN' })).toBe(1);
    expect(moved(before, after, 'switchboard_publishes_total')).toBe(8);
  });
});

describe('limits and recoveries in the metrics', () => {
  it('counts an event refused by CLIENT_EVENTS_PER_SECOND, and refusals of the HTTP and handshake rate limits', async () => {
    const { url, gateway } = await startGateway({
      CLIENT_EVENTS_PER_SECOND: '1', HTTP_RATE_LIMIT_PER_S: '1', CONNECTIONS_PER_IP_PER_S: '1', CONNECTIONS_BURST: '1', METRICS_PORT: '0',
    });
    // Scraped on the keyless listener: scrapes on the gateway's port would spend the HTTP budget.
    const metricsUrl = gateway.metricsUrl!;
    const before = await scrapeUrl(metricsUrl);
    // The address's one handshake of the burst, then the next is refused before any token is read.
    const socket = await connectAs(url, 'eve', unique('session'));
    await new Promise<void>((resolve) => openClient(url, { auth: { token: 'unread' } }).once('connect_error', () => resolve()));
    // A burst of 2 events, then the third is refused.
    const answers = await Promise.all([1, 2, 3].map(() => socket.emitWithAck('no-such-event')));
    expect(answers.map((answer) => (answer as ErrorResponse).error.code)).toEqual(['EVENT_UNKNOWN', 'EVENT_UNKNOWN', 'RATE_LIMITED']);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await api(url, '/v1/stats')).status);
    expect(statuses).toContain(429);
    const after = await scrapeUrl(metricsUrl);

    expect(moved(before, after, 'switchboard_rate_limited_total', { limit: 'client_events' })).toBe(1);
    expect(moved(before, after, 'switchboard_client_events_total', { kind: 'unknown', outcome: 'RATE_LIMITED' })).toBe(1);
    expect(moved(before, after, 'switchboard_client_events_total', { kind: 'unknown', outcome: 'EVENT_UNKNOWN' })).toBe(2);
    expect(moved(before, after, 'switchboard_rate_limited_total', { limit: 'handshake_rate' })).toBe(1);
    expect(moved(before, after, 'switchboard_handshakes_total', { result: 'RATE_LIMITED' })).toBe(1);
    expect(moved(before, after, 'switchboard_rate_limited_total', { limit: 'http' })).toBe(statuses.filter((status) => status === 429).length);
  });

  it('counts MAX_CONNECTIONS_PER_USER refusals', async () => {
    const { url } = await startGateway({ MAX_CONNECTIONS_PER_USER: '1' });
    const before = await scrape(url);
    const session = unique('session');
    await connectAs(url, 'gus', session);
    const socket = openClient(url, { auth: { token: await signToken({ user_id: 'gus', session_id: session }) } });
    await nextEvent(socket, 'disconnect'); // a transient refusal closes the connection
    const after = await scrape(url);
    expect(moved(before, after, 'switchboard_rate_limited_total', { limit: 'connections_per_user' })).toBe(1);
    expect(moved(before, after, 'switchboard_handshakes_total', { result: 'RATE_LIMITED' })).toBe(1);
  });

  it('counts a reconnection that recovered its state, and one that asked too late', async () => {
    const { url } = await startGateway({ RECOVERY_WINDOW_MS: '1000' });
    const before = await scrape(url);
    const token = await signToken({ user_id: 'hal' });
    const quick = openClient(url, { auth: { token }, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    await nextEvent(quick, 'switchboard:ready'); // the offset a recovery starts from
    const back = nextEvent(quick, 'connect');
    quick.io.engine.close();
    await back;
    expect(quick.recovered).toBe(true);
    const late = openClient(url, { auth: { token }, reconnection: true, reconnectionDelay: 2000, randomizationFactor: 0 });
    await nextEvent(late, 'switchboard:ready');
    const again = nextEvent(late, 'connect', 5000);
    late.io.engine.close();
    await again;
    expect(late.recovered).toBe(false);
    const after = await scrape(url);

    expect(moved(before, after, 'switchboard_recoveries_total', { result: 'recovered' })).toBe(1);
    expect(moved(before, after, 'switchboard_recoveries_total', { result: 'not_recovered' })).toBe(1);
    expect(moved(before, after, 'switchboard_disconnects_total', { reason: 'transport close' })).toBe(2);
    // A recovered socket skipped the handshake: two connections and one more handshake for the late one.
    expect(moved(before, after, 'switchboard_handshakes_total', { result: 'ok' })).toBe(3);
  });
});

describe('who may read the metrics', () => {
  it('answers /metrics only with an API key: 401 from the catalog without one or with a wrong one', async () => {
    const { url } = await startGateway();
    const missing = await api<ErrorResponse>(url, '/metrics', { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('API_KEY_MISSING');
    const wrong = await api<ErrorResponse>(url, '/metrics', { key: 'not-the-key-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('API_KEY_INVALID');
    const byHeader = await scrape(url, { 'x-api-key': TEST_API_KEY });
    expect(byHeader.value('switchboard_engine_ready')).toBe(1);
  });

  it('serves /metrics without a key on METRICS_PORT, and nothing else there', async () => {
    const { url, gateway } = await startGateway({ METRICS_PORT: '0' });
    const metricsUrl = gateway.metricsUrl!;
    expect(new URL(metricsUrl).port).not.toBe(new URL(url).port);
    await connectAs(url, 'ivy', unique('session'));
    expect((await scrapeUrl(metricsUrl)).value('switchboard_connections', { namespace: '/' })).toBe(1);
    const other = await fetch(new URL('/v1/stats', metricsUrl), { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(other.status).toBe(404);
    expect(((await other.json()) as ErrorResponse).error.code).toBe('NOT_FOUND');
  });

  it('METRICS=false: no /metrics (404 NOT_FOUND), no listener, the gateway works as before', async () => {
    const { url, gateway } = await startGateway({ METRICS: 'false' });
    const answer = await api<ErrorResponse>(url, '/metrics');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
    expect(gateway.metricsUrl).toBeUndefined();
    const socket = await connectAs(url, 'jo', unique('session'));
    const received = nextEvent(socket, 'hello');
    expect((await api(url, '/v1/publish', { body: { event: 'hello', data: 1, users: ['jo'] } })).status).toBe(200);
    expect((await received)[0]).toBe(1);
  });

  it('refuses METRICS_PORT without metrics, or on the gateway\'s own port', () => {
    expect(problemsOf({ METRICS: 'false', METRICS_PORT: '9100' })).toContain('METRICS_PORT needs METRICS=true');
    expect(problemsOf({ PORT: '3000', METRICS_PORT: '3000' }).join('\n')).toMatch(/METRICS_PORT=3000 is the gateway's PORT/);
  });
});

describe('auth service metrics', () => {
  it('counts logins and refreshes by outcome, revocations by reason, and the login throttle', async () => {
    const gw = await startAuthGateway({ LOGIN_MAX_FAILURES: '2', LOGIN_FAILURE_WINDOW_S: '60' });
    const before = await scrape(gw.url);
    const pair = await loginOk(gw.authUrl, { accessKey: ACCESS_KEY });
    expect((await refresh(gw.authUrl, pair.refreshToken)).status).toBe(200);
    const reused = await refresh(gw.authUrl, pair.refreshToken);
    expect(reused.body.error?.code).toBe('REFRESH_TOKEN_REUSED');
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push((await login(gw.authUrl, { accessKey: 'a-wrong-access-key' })).body.error?.code);
    expect(codes).toEqual(['LOGIN_FAILED', 'LOGIN_FAILED', 'RATE_LIMITED']);
    const after = await scrape(gw.url);

    expect(moved(before, after, 'switchboard_auth_logins_total', { outcome: 'ok' })).toBe(1);
    expect(moved(before, after, 'switchboard_auth_logins_total', { outcome: 'LOGIN_FAILED' })).toBe(2);
    expect(moved(before, after, 'switchboard_auth_logins_total', { outcome: 'RATE_LIMITED' })).toBe(1);
    expect(moved(before, after, 'switchboard_rate_limited_total', { limit: 'login' })).toBe(1);
    expect(moved(before, after, 'switchboard_auth_refreshes_total', { outcome: 'ok' })).toBe(1);
    expect(moved(before, after, 'switchboard_auth_refreshes_total', { outcome: 'REFRESH_TOKEN_REUSED' })).toBe(1);
    expect(moved(before, after, 'switchboard_auth_revocations_total', { reason: 'refresh-token-reused' })).toBe(1);
  });

  it('lets an auth-service admin token read /metrics', async () => {
    const gw = await startAuthGateway();
    const admin = await loginOk(gw.authUrl, { accessKey: ACCESS_KEY });
    const read = await scrape(gw.url, { authorization: `Bearer ${admin.accessToken}` });
    expect(read.value('switchboard_auth_logins_total', { outcome: 'ok' })).toBe(1);
  });
});

describe('the Redis engine in the metrics', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ cleanup: 'manual' });
  });
  afterAll(async () => {
    await redis.kill();
  });

  it('reports engine_ready, then 0 while Redis is down, with failed commands counted; times Redis commands', async () => {
    const { url } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:` });
    const socket = await connectAs(url, 'kim', unique('session'));
    const room = unique('room');
    await join(socket, room);
    const received = nextEvent(socket, 'news');
    expect((await api(url, '/v1/publish', { body: { event: 'news', rooms: [room] } })).status).toBe(200);
    await received;
    const up = await scrape(url);
    expect(up.value('switchboard_engine_ready')).toBe(1);
    expect(up.histogram('switchboard_redis_command_duration_seconds').count).toBeGreaterThan(0);
    expect(up.value('switchboard_history_appends_total')).toBe(1);

    await redis.stop();
    const down = await waitFor(async () => {
      const now = await scrape(url);
      return now.value('switchboard_engine_ready') === 0 && now;
    }, { what: 'engine_ready 0' });
    expect((await api(url, '/v1/users/kim')).status).toBe(503);
    const refused = await api<ErrorResponse>(url, '/v1/publish', { body: { event: 'news', rooms: [room] } });
    expect(refused.body.error.code).toBe('ENGINE_UNAVAILABLE');
    const during = await scrape(url);
    expect(moved(down, during, 'switchboard_engine_errors_total')).toBeGreaterThanOrEqual(1);
    expect(moved(down, during, 'switchboard_publishes_total', { surface: 'v1', outcome: 'ENGINE_UNAVAILABLE' })).toBe(1);

    await redis.restart();
    await waitFor(async () => (await scrape(url)).value('switchboard_engine_ready') === 1, { timeoutMs: 10_000, what: 'engine_ready 1 again' });
  });
});

/** Counts the `event`s `socket` receives from now on; the returned function reads the count. */
function counted(socket: Socket, event: string): () => number {
  let seen = 0;
  socket.on(event, () => (seen += 1));
  return () => seen;
}
