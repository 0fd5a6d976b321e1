import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { onCleanup } from './support/cleanup.js';
import { flush, nextEvent, openClient, recordEvents, signToken, TEST_API_KEY } from './support/gateway.js';
import { CLUSTER_ENV, spawnGateway, type GatewayProcess } from './support/process.js';
import { startProxy } from './support/proxy.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { sleep, waitFor } from './support/wait.js';

/**
 * Faults a two-node cluster must ride out, checked the way a user would: Redis frozen (SIGSTOP), Redis
 * killed and restarted empty, one node SIGKILLed, one node drained with SIGTERM — while a backend keeps
 * publishing at a steady rate and stock socket.io-clients (automatic reconnection) listen.
 *
 * What "riding it out" means here: both nodes stay up (`/healthz` 200 throughout), every publish answers
 * within a bounded time with 2xx or 503 ENGINE_UNAVAILABLE + Retry-After (never a 500, never a hang),
 * cross-node delivery resumes within 5 s of the fault ending, and every publish that got a 2xx reaches
 * its client exactly once, in history order.
 */
const ENV = CLUSTER_ENV;
/** The longest a publish may take to answer, whatever Redis does. */
const PUBLISH_BOUND_MS = 5000;
/** How soon after a fault ends cross-node delivery must work again. */
const RESUME_BOUND_MS = 5000;
/** How long the Redis faults last, as the issue asks. */
const OUTAGE_MS = 10_000;
/** A publish every this many ms, whether or not the previous one answered. */
const PUBLISH_EVERY_MS = 50;
/** Stock client reconnection, as the issue describes it. */
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 } as const;

describe('Redis faults, two nodes', () => {
  it('rides out Redis frozen (SIGSTOP) for 10 s: nodes up, publishes 2xx or 503, delivery resumes, 2xx delivered once', async () => {
    const { redis, a, b, socket, got, health, publisher } = await steadyTrafficAcrossNodes('pia');

    redis.pause();
    const faultAt = Date.now();
    await sleep(OUTAGE_MS);
    redis.resume();
    const backAt = Date.now();
    const resumedIn = await deliveryResumes(got, publisher, backAt);
    await sleep(500);
    await publisher.stop();
    await health.stop();

    const report = summary(publisher.outcomes, got, { faultAt, backAt, resumedIn, health: health.failures, disconnects: socket.disconnects });
    expect(publisher.outcomes.filter((o) => o.sentAt >= faultAt && o.sentAt < backAt).length, report).toBeGreaterThan(OUTAGE_MS / PUBLISH_EVERY_MS / 2);
    await expectRodeItOut({ a, b, socket, got, health, publisher, resumedIn }, report);
  }, 40_000);

  it('rides out Redis killed for 10 s and restarted empty: nodes up, /readyz 503 then 200, delivery resumes, 2xx delivered once', async () => {
    const { redis, a, b, socket, got, health, publisher } = await steadyTrafficAcrossNodes('kim');

    await redis.kill();
    const faultAt = Date.now();
    const readiness = watch([a.url, b.url], '/readyz');
    await sleep(OUTAGE_MS);
    const beforeRestart = await Promise.all([a.url, b.url].map((url) => status(url, '/readyz')));
    const restartAt = Date.now();
    await redis.restart(); // a fresh, empty redis-server on the same port
    const backAt = Date.now();
    const resumedIn = await deliveryResumes(got, publisher, backAt);
    await waitFor(async () => (await Promise.all([a.url, b.url].map((url) => status(url, '/readyz')))).every((s) => s === 200), { timeoutMs: RESUME_BOUND_MS, what: '/readyz 200 on both nodes after the restart' });
    await sleep(500);
    await publisher.stop();
    await health.stop();
    await readiness.stop();

    const report = summary(publisher.outcomes, got, { faultAt, backAt, resumedIn, health: health.failures, disconnects: socket.disconnects, beforeRestart });
    // Not ready while Redis is down: 503 on both nodes within a second of the kill, and still 503 just before the restart.
    for (const url of [a.url, b.url]) {
      const down = readiness.samples.filter((s) => s.url === url && s.at >= faultAt + 1000 && s.at < restartAt - 300);
      expect(down.length, report).toBeGreaterThan(0);
      expect(down.filter((s) => s.status !== 503), `${url} /readyz while Redis was down\n${report}`).toEqual([]);
    }
    expect(beforeRestart, report).toEqual([503, 503]);
    expect(publisher.outcomes.filter((o) => o.sentAt >= faultAt + 500 && o.sentAt < backAt && o.status === 503).length, report).toBeGreaterThan(0);
    await expectRodeItOut({ a, b, socket, got, health, publisher, resumedIn }, report);
  }, 40_000);
});

describe('node faults, two nodes', () => {
  it('moves the clients of a SIGKILLed node to the survivor, which recovers what they missed (and the rooms they joined), once and in order', async () => {
    const redis = await startRedis();
    const [a, b] = await startNodes(redis, { RECOVERY_WINDOW_MS: '10000', PUBLIC_ROOMS: 'chat:*' });
    const proxy = await startProxy(a.url); // the load balancer, in front of node A for now
    const xena = unique('xena');
    const xenaSession = unique('s');
    const x = await connectAs(proxy.url, xena, xenaSession);
    const got = deliveries(x, 'news');
    // A room joined after connecting: the crashed node never wrote a session at a disconnect.
    const room = `chat:${unique('lobby')}`;
    expect(await x.emitWithAck('room/join-room', room)).toMatchObject({ ok: true, status: true, room });
    const yuri = unique('yuri');
    const y = await connectAs(b.url, yuri);
    const yEvents = recordEvents(y);

    const ids = [await publishOk(b.url, { event: 'news', data: { seq: 0 }, users: [xena] })];
    await waitFor(() => got.length === 1, { what: 'the first message (so the client holds a recovery offset)' });
    const yIds = [await publishOk(b.url, { event: 'for:yuri', data: 'before', users: [yuri] })];

    // Node A dies; the load balancer has not noticed yet, so reconnection attempts fail meanwhile.
    proxy.pointTo(null);
    const dropped = nextEvent<[string]>(x, 'disconnect', 5000);
    a.child.kill('SIGKILL');
    await a.exited();
    const leftAt = Date.now();
    expect((await dropped)[0]).toBe('transport close');

    for (let seq = 1; seq <= 5; seq += 1) {
      const target = seq === 3 ? { sessions: [xenaSession] } : seq === 5 ? { rooms: [room] } : { users: [xena] };
      ids.push(await publishOk(b.url, { event: 'news', data: { seq }, ...target }));
      if (seq === 2) await publishOk(b.url, { event: 'news', data: { seq: 'not for xena' }, users: [unique('someone-else')] });
      if (seq === 4) yIds.push(await publishOk(b.url, { event: 'for:yuri', data: 'during', users: [yuri] }));
    }

    const reconnected = nextEvent(x, 'connect', 5000);
    proxy.pointTo(b.url); // the load balancer now sends everything to the survivor
    await reconnected;
    expect(Date.now() - leftAt).toBeLessThan(10_000); // back within RECOVERY_WINDOW_MS
    expect(x.recovered, `recovered after moving to the survivor; deliveries: ${JSON.stringify(got.map((d) => d.seq))}`).toBe(true);

    ids.push(await publishOk(b.url, { event: 'news', data: { seq: 6 }, rooms: [room] }));
    yIds.push(await publishOk(b.url, { event: 'for:yuri', data: 'after', users: [yuri] }));
    await waitFor(() => got.length >= 7, { what: 'the missed and live messages' });
    await flush(b.url, x, y);
    expect(got.map((d) => d.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(got.map((d) => d.id)).toEqual(ids);
    expectHistoryOrder(got);

    // The survivor's own client saw exactly what was published to it, and stayed connected.
    const yOwn = yEvents.filter((e) => e.event !== 'test:marker');
    expect(yOwn.map((e) => [e.event, e.args[0], (e.args[1] as { id: string }).id])).toEqual([
      ['for:yuri', 'before', yIds[0]],
      ['for:yuri', 'during', yIds[1]],
      ['for:yuri', 'after', yIds[2]],
    ]);
    expect(y.connected).toBe(true);
    expect(b.child.exitCode).toBeNull();
  }, 30_000);

  it('drains a node with SIGTERM while publishes flow through the other: no publish error, its clients move over, nothing lost', async () => {
    const redis = await startRedis();
    const [a, b] = await startNodes(redis, {}, [{ SHUTDOWN_DELAY_MS: '500' }, {}]);
    const proxy = await startProxy(a.url);
    const xena = unique('xena');
    const x = await connectAs(proxy.url, xena);
    const got = deliveries(x, 'tick');
    const yuri = unique('yuri');
    const y = await connectAs(b.url, yuri);
    const yEvents = recordEvents(y);
    const health = watch([b.url], '/healthz');
    const publisher = steadyPublisher(b.url, xena);
    await waitFor(() => got.length >= 5, { what: 'cross-node delivery before the drain' });

    const left = nextEvent<[string]>(x, 'disconnect', 5000);
    a.child.kill('SIGTERM');
    const drainAt = Date.now();
    // The load balancer notices /readyz 503 and stops sending new connections to A.
    await waitFor(async () => (await status(a.url, '/readyz')) === 503, { timeoutMs: 2000, what: 'node A /readyz 503 after SIGTERM' });
    proxy.pointTo(b.url);
    expect((await left)[0]).toBe('transport close');
    const leftAt = Date.now();
    await waitFor(() => x.connected, { what: 'the client reconnecting to node B' });
    const backAt = Date.now();
    const recovered = x.recovered;
    await waitFor(() => got.filter((d) => d.at > backAt).length >= 5, { what: 'live delivery after moving to node B' });
    await publisher.stop();
    await health.stop();
    const exitCode = await Promise.race([a.exited(), sleep(10_000).then(() => 'still running')]);

    const report = summary(publisher.outcomes, got, { drainAt, leftAt, backAt, recovered, health: health.failures, disconnects: x.disconnects });
    expect(exitCode, report).toBe(0);
    // Zero publish errors cluster-wide: every publish through the surviving node succeeded, in time.
    expect(publisher.outcomes.filter((o) => o.status !== 200 || o.ms >= PUBLISH_BOUND_MS), report).toEqual([]);
    expect(recovered, report).toBe(true);
    await flush(b.url, x, y);
    expectExactlyOnce(publisher.outcomes, got, report);
    expect(health.failures, report).toEqual([]);
    expect(yEvents.filter((e) => e.event !== 'test:marker'), report).toEqual([]);
    expect(y.connected).toBe(true);
    expect(b.child.exitCode).toBeNull();
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------------------

interface Node {
  readonly url: string;
  readonly child: GatewayProcess['child'];
  exited(): Promise<number | null>;
  output(): string;
}

/** Two gateway processes on `redis` (one data prefix), each with `ENV` + `common` + its own `perNode` env; ready. */
async function startNodes(redis: TestRedis, common: Record<string, string> = {}, perNode: Record<string, string>[] = [{}, {}]): Promise<[Node, Node]> {
  const prefix = `${unique('sbfault')}:`;
  const processes = perNode.map((own) => spawnGateway({ ...ENV, REDIS_URL: redis.url, REDIS_DATA_PREFIX: prefix, ...common, ...own }));
  const urls = await Promise.all(processes.map((node) => node.listening()));
  const nodes = processes.map((node, index) => ({ url: urls[index]!, child: node.child, exited: node.exited, output: node.output }));
  for (const node of nodes) await waitFor(async () => (await status(node.url, '/readyz')) === 200, { timeoutMs: 10_000, what: `${node.url} ready` });
  return nodes as [Node, Node];
}

/**
 * The setup both Redis faults start from: two nodes on a fresh Redis, a client `name` on node A, `/healthz`
 * watched on both nodes, and a steady publisher sending `tick` to that user through node B; resolves once
 * cross-node delivery works (5 messages arrived).
 */
async function steadyTrafficAcrossNodes(name: string) {
  const redis = await startRedis();
  const [a, b] = await startNodes(redis);
  const user = unique(name);
  const socket = await connectAs(a.url, user);
  const got = deliveries(socket, 'tick');
  const health = watch([a.url, b.url], '/healthz');
  const publisher = steadyPublisher(b.url, user);
  await waitFor(() => got.length >= 5, { what: 'cross-node delivery before the fault' });
  return { redis, a, b, socket, got, health, publisher };
}


/**
 * What riding out a Redis fault means (see the top of this file): every publish answered in bounds, delivery
 * resumed in time, every 2xx delivered exactly once, `/healthz` 200 throughout, both nodes still running.
 */
async function expectRodeItOut(run: Omit<Awaited<ReturnType<typeof steadyTrafficAcrossNodes>>, 'redis'> & { resumedIn: number }, report: string): Promise<void> {
  const { a, b, socket, got, health, publisher, resumedIn } = run;
  expectBoundedAnswers(publisher.outcomes, report);
  expect(resumedIn, report).toBeLessThanOrEqual(RESUME_BOUND_MS);
  await flush(b.url, socket);
  expectExactlyOnce(publisher.outcomes, got, report);
  expect(health.failures, report).toEqual([]);
  expectRunning(a, b);
}

function expectRunning(...nodes: Node[]): void {
  for (const node of nodes) expect(node.child.exitCode, `a node exited:\n${node.output().slice(-4000)}`).toBeNull();
}


/** A stock client with automatic reconnection, connected as `userId`; counts its disconnects. */
async function connectAs(url: string, userId: string, sessionId = unique('s')): Promise<Socket & { disconnects: string[] }> {
  const socket = openClient(url, { auth: { token: await signToken({ user_id: userId, session_id: sessionId }) }, ...RECONNECT }) as Socket & { disconnects: string[] };
  socket.disconnects = [];
  socket.on('disconnect', (reason: string) => socket.disconnects.push(reason));
  await nextEvent(socket, 'connect', 5000);
  return socket;
}

/** The status of a keyless GET, bounded; 0 when it failed or took longer than `timeoutMs`. */
async function status(url: string, path: string, timeoutMs = 2000): Promise<number> {
  try {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

interface Sample {
  url: string;
  at: number;
  status: number;
}

/** Polls `path` on every node every 100 ms; `failures` are the samples that were not 200. */
function watch(urls: string[], path: string): { samples: Sample[]; readonly failures: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(urls.map(async (url) => {
        const at = Date.now();
        samples.push({ url, at, status: await status(url, path) });
      }));
      await sleep(100);
    }
  })();
  const stop = async () => {
    running = false;
    await loop;
  };
  onCleanup(stop);
  return { samples, get failures() { return samples.filter((s) => s.status !== 200); }, stop };
}

interface Outcome {
  seq: number;
  sentAt: number;
  ms: number;
  /** HTTP status, or 0 when the request failed or did not answer within PUBLISH_BOUND_MS. */
  status: number;
  id?: string;
  code?: string;
  retryAfter?: string | null;
  failure?: string;
}

/**
 * Sends `POST /v1/publish` through `url` every PUBLISH_EVERY_MS (without waiting for the previous answer),
 * event `tick` to `user` with a unique `data.seq`, each bounded by PUBLISH_BOUND_MS.
 */
function steadyPublisher(url: string, user: string) {
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  let seq = 0;
  const send = () => {
    const mine = seq++;
    const sentAt = Date.now();
    const request = fetch(`${url}/v1/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'tick', data: { seq: mine }, users: [user] }),
      signal: AbortSignal.timeout(PUBLISH_BOUND_MS),
    })
      .then(async (response) => {
        const body = (await response.json().catch(() => ({}))) as { id?: string; error?: { code: string } };
        outcomes.push({
          seq: mine, sentAt, ms: Date.now() - sentAt, status: response.status, id: body.id, code: body.error?.code,
          retryAfter: response.headers.get('retry-after'),
        });
      })
      .catch((error: Error) => {
        outcomes.push({ seq: mine, sentAt, ms: Date.now() - sentAt, status: 0, failure: `${error.name}: ${error.message}` });
      });
    pending.add(request);
    void request.finally(() => pending.delete(request));
  };
  const timer = setInterval(send, PUBLISH_EVERY_MS);
  let stopped = false;
  const stop = async () => {
    if (!stopped) clearInterval(timer);
    stopped = true;
    await Promise.all([...pending]);
    outcomes.sort((x, y) => x.seq - y.seq);
  };
  onCleanup(stop);
  return { outcomes, stop };
}

interface Delivery {
  seq: unknown;
  id: string | undefined;
  /** The message's place in the room history (meta.history[user:…]). */
  history: { epoch: string; offset: number } | undefined;
  /** Socket.IO's recovery offset. */
  offset: unknown;
  at: number;
}

/** Every `event` the socket receives. */
function deliveries(socket: Socket, event: string): Delivery[] {
  const out: Delivery[] = [];
  socket.on(event, (data: { seq: unknown } | undefined, meta: { id: string; history?: Record<string, { epoch: string; offset: number }> } | undefined, offset: unknown) => {
    const history = meta?.history === undefined ? undefined : Object.values(meta.history)[0];
    out.push({ seq: data?.seq, id: meta?.id, history, offset, at: Date.now() });
  });
  return out;
}

/** Resolves with how long after `since` the client first received a message sent at or after `since`. */
async function deliveryResumes(got: Delivery[], publisher: ReturnType<typeof steadyPublisher>, since: number): Promise<number> {
  const deadline = since + RESUME_BOUND_MS + 2000;
  const sentAt = new Map<unknown, number>();
  for (;;) {
    // Send times are known for answered publishes; the rest were sent after `since` only if their seq is higher.
    for (const o of publisher.outcomes) sentAt.set(o.seq, o.sentAt);
    const fresh = got.find((d) => (sentAt.get(d.seq) ?? 0) >= since);
    if (fresh !== undefined) return fresh.at - since;
    if (Date.now() > deadline) return Number.POSITIVE_INFINITY;
    await sleep(25);
  }
}

/** Every publish answered in time with 2xx, or 503 ENGINE_UNAVAILABLE with Retry-After; never 500, never a hang. */
function expectBoundedAnswers(outcomes: Outcome[], report: string): void {
  const wrong = outcomes.filter((o) => {
    if (o.ms >= PUBLISH_BOUND_MS || o.status === 0) return true;
    if (o.status >= 200 && o.status < 300) return o.id === undefined;
    return !(o.status === 503 && o.code === 'ENGINE_UNAVAILABLE' && o.retryAfter !== null && o.retryAfter !== undefined);
  });
  expect(wrong, report).toEqual([]);
}

/**
 * Every 2xx publish arrived exactly once (by meta.id, with its own seq), nothing refused arrived, and
 * arrivals follow the room history's order within each epoch.
 */
function expectExactlyOnce(outcomes: Outcome[], got: Delivery[], report: string): void {
  const accepted = outcomes.filter((o) => o.status >= 200 && o.status < 300);
  const counts = new Map<string | undefined, number>();
  for (const d of got) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
  const lost = accepted.filter((o) => counts.get(o.id) === undefined).map((o) => o.seq);
  const duplicated = accepted.filter((o) => (counts.get(o.id) ?? 0) > 1).map((o) => o.seq);
  const acceptedIds = new Set(accepted.map((o) => o.id));
  const unexpected = got.filter((d) => !acceptedIds.has(d.id)).map((d) => d.seq);
  const mismatched = got.filter((d) => accepted.some((o) => o.id === d.id && o.seq !== d.seq)).map((d) => d.seq);
  expect({ lost, duplicated, unexpected, mismatched }, report).toEqual({ lost: [], duplicated: [], unexpected: [], mismatched: [] });
  expect(accepted.length, report).toBeGreaterThan(0);
  expectHistoryOrder(got, report);
}

/** Within each history epoch, deliveries come in increasing offset order. */
function expectHistoryOrder(got: Delivery[], report = ''): void {
  const last = new Map<string, number>();
  const outOfOrder: string[] = [];
  for (const d of got) {
    if (d.history === undefined) continue;
    const previous = last.get(d.history.epoch);
    if (previous !== undefined && d.history.offset <= previous) outOfOrder.push(`seq ${String(d.seq)}: offset ${d.history.offset} after ${previous}`);
    last.set(d.history.epoch, d.history.offset);
  }
  expect(outOfOrder, report).toEqual([]);
}

/** A compact account of a run, for assertion messages. */
function summary(outcomes: Outcome[], got: Delivery[], extra: Record<string, unknown>): string {
  const byStatus: Record<string, number> = {};
  for (const o of outcomes) byStatus[`${o.status}${o.code === undefined ? '' : ` ${o.code}`}`] = (byStatus[`${o.status}${o.code === undefined ? '' : ` ${o.code}`}`] ?? 0) + 1;
  const slowest = Math.max(0, ...outcomes.map((o) => o.ms));
  return JSON.stringify({ published: outcomes.length, byStatus, slowestMs: slowest, delivered: got.length, ...extra }, (_key, value: unknown) =>
    value === Number.POSITIVE_INFINITY ? 'never' : value,
  );
}

async function publishOk(url: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${url}/v1/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(PUBLISH_BOUND_MS),
  });
  const answer = (await response.json()) as { id: string };
  expect(response.status, JSON.stringify(answer)).toBe(200);
  return answer.id;
}
