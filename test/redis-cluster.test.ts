import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { ERROR_CATALOG } from '../src/protocol/errors.js';
import { expectRefusedWhileRedisUnreachable } from './support/cluster-checks.js';
import { problemsOf } from './support/config.js';
import { api, flush, signToken, TEST_API_KEY, TEST_JWT_SECRET } from './support/gateway.js';
import { isAllowedAnswer, isSubscribed, refusalWindow, undelivered, publishNews, steadyRoomTraffic, stockNewsClient, wrongDeliveries, type NewsClient, type Published } from './support/news-traffic.js';
import { CLUSTER_ENV, runCli, spawnGateway } from './support/process.js';
import { startProxy } from './support/proxy.js';
import { freePort, startRedisCluster, type TestRedisCluster } from './support/redis.js';
import { unique } from './support/temp.js';
import { sleep, waitFor } from './support/wait.js';

/**
 * Issue 15's Redis Cluster: REDIS_CLUSTER_NODES runs the Redis engine on a Redis Cluster (ioredis
 * `Cluster`), every multi-key command in one hash slot, fan-out through the Streams adapter (default) or
 * sharded pub/sub; a master lost is an outage of its slots until its replica is promoted.
 */
const BASE = { NODE_ENV: 'production', API_KEYS: TEST_API_KEY, JWT_SECRET: TEST_JWT_SECRET };
const PASSWORD = 'cluster-pass-5c2e8a';

describe('Redis Cluster: configuration', () => {
  it('REDIS_CLUSTER_NODES turns the Redis engine on a cluster, its password from REDIS_PASS', () => {
    const config = loadConfig({ ...BASE, REDIS_CLUSTER_NODES: '10.0.0.5:7000, redis-b:7001,[fd00::7]:7002', REDIS_PASS: PASSWORD });
    expect(config.redis?.target).toEqual({
      kind: 'cluster',
      nodes: [{ host: '10.0.0.5', port: 7000 }, { host: 'redis-b', port: 7001 }, { host: 'fd00::7', port: 7002 }],
      password: PASSWORD,
    });
    expect(config.redis?.adapter).toBe('streams');
    expect(loadConfig({ ...BASE, REDIS_CLUSTER_NODES: '10.0.0.5:7000', REDIS_ADAPTER: 'sharded' }).redis?.adapter).toBe('sharded');
  });

  it('refuses the nodes next to another Redis, lists that are not host:port, the pubsub adapter and a prefix with braces', () => {
    const cluster = { REDIS_CLUSTER_NODES: '127.0.0.1:7000' };
    expect(problemsOf({ ...BASE, ...cluster, REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES and REDIS_URL are exclusive/),
    ]);
    expect(problemsOf({ ...BASE, ...cluster, REDIS_HOST: 'redis' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES and REDIS_HOST are exclusive/)]);
    expect(problemsOf({ ...BASE, ...cluster, REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES and REDIS_SENTINELS are exclusive/),
    ]);
    expect(problemsOf({ ...BASE, REDIS_CLUSTER_NODES: '10.0.0.5,10.0.0.6:0,redis://x:7000,ok:7000' })).toEqual([
      expect.stringMatching(/REDIS_CLUSTER_NODES.*"10\.0\.0\.5" is not host:port/),
      expect.stringMatching(/REDIS_CLUSTER_NODES.*"10\.0\.0\.6:0" is not host:port/),
      expect.stringMatching(/REDIS_CLUSTER_NODES.*"redis:\/\/x:7000" is not host:port/),
    ]);
    expect(problemsOf({ ...BASE, REDIS_CLUSTER_NODES: ' , ' })).toEqual([expect.stringMatching(/REDIS_CLUSTER_NODES.*at least one cluster node/)]);
    expect(problemsOf({ ...BASE, ...cluster, REDIS_ADAPTER: 'pubsub' })).toEqual([expect.stringMatching(/^REDIS_ADAPTER=pubsub does not scale on a Redis Cluster/)]);
    expect(problemsOf({ ...BASE, ...cluster, REDIS_DATA_PREFIX: '{sb}:' })).toEqual([expect.stringMatching(/^REDIS_DATA_PREFIX must not contain \{ or \}/)]);
  });

  it('switchboard check-config names the nodes and the adapter, never the password', async () => {
    const result = await runCli(['check-config'], { env: { ...BASE, REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001', REDIS_PASS: PASSWORD } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('engine:        Redis at Redis Cluster via 127.0.0.1:7000, 127.0.0.1:7001 (prefix switchboard:, streams adapter)');
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });
});

describe('Redis Cluster: no cluster node answers', () => {
  it('the node starts, says where it looked (no password), refuses with 503 + Retry-After and keeps running', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const node = spawnGateway({ ...BASE, REDIS_CLUSTER_NODES: `127.0.0.1:${first},127.0.0.1:${second}`, REDIS_PASS: PASSWORD });
    const url = await node.listening();
    expect(node.output()).toContain(`Redis is unreachable at Redis Cluster via 127.0.0.1:${first}, 127.0.0.1:${second} (REDIS_CLUSTER_NODES)`);
    await expectRefusedWhileRedisUnreachable(node, url, [PASSWORD]);
    expect(node.output()).not.toContain('unhandled rejection');
  });
});

// ---------------------------------------------------------------------------------------------------------

/** Rooms `news:0` … : enough that their keys (history, members) land on every master. */
const ROOMS = 8;

/** Two gateway processes on `cluster`, ready. */
async function twoNodes(cluster: TestRedisCluster, prefix: string, env: Record<string, string> = {}) {
  const nodes = [0, 1].map(() => spawnGateway({
    ...CLUSTER_ENV,
    REDIS_CLUSTER_NODES: cluster.nodeList,
    REDIS_PASS: PASSWORD,
    REDIS_DATA_PREFIX: prefix,
    PUBLIC_ROOMS: 'news:*',
    ...env,
  }));
  const urls = await Promise.all(nodes.map(async (node) => {
    const url = await node.listening();
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 10_000, what: `${url} ready` });
    return url;
  }));
  return { nodes, urls };
}

async function newsClient(url: string, index: number): Promise<NewsClient> {
  const user = unique(`u${index}`);
  return stockNewsClient(url, user, `news:${index % ROOMS}`, { token: await signToken({ user_id: user, session_id: unique('s') }) });
}

describe.each(['streams', 'sharded'] as const)('Redis Cluster: two nodes, the %s adapter', (adapter) => {
  it('publishes through node B reach the clients on node A exactly once; presence, members and history are the same on both nodes', async () => {
    const cluster = await startRedisCluster({ password: PASSWORD });
    const prefix = `${unique('cluster')}:`;
    const { nodes, urls } = await twoNodes(cluster, prefix, { REDIS_ADAPTER: adapter });
    const [a, b] = urls as [string, string];

    // The rooms' keys are spread over the masters (what makes this a cluster test, not a one-slot one).
    const masters = new Set<number>();
    for (let room = 0; room < ROOMS; room += 1) masters.add((await cluster.masterOf(`${prefix}{history:news:${room}}:meta`)).port);
    expect(masters.size, 'masters holding the rooms').toBe(3);

    const clients = await Promise.all(Array.from({ length: 2 * ROOMS }, (_, index) => newsClient(a, index)));
    await waitFor(() => clients.every(isSubscribed), { timeoutMs: 10_000, what: 'every client in its room on node A' });

    const published: Published[] = [];
    for (let n = 0; n < 3 * ROOMS; n += 1) published.push(await publishNews(b, { rooms: [`news:${n % ROOMS}`] }));
    expect(published.map((p) => p.status)).toEqual(published.map(() => 200));
    await flush(a, ...clients.map((c) => c.socket));
    const expected = (client: NewsClient) => published.filter((p) => p.room === client.room).map((p) => p.id!);
    await waitFor(() => clients.every((c) => c.news.length >= expected(c).length), { timeoutMs: 5000 }).catch(() => undefined);
    for (const client of clients) expect(client.news, client.room).toEqual(expected(client));

    // Presence and members as node B sees them: node A's clients, every room.
    for (let room = 0; room < ROOMS; room += 1) {
      const users = clients.filter((c) => c.room === `news:${room}`).map((c) => ({ userId: c.user, connections: 1 }));
      expect((await api(b, `/v1/rooms/news:${room}/presence`)).body).toEqual({ room: `news:${room}`, members: expect.arrayContaining(users) });
      const history = await api<{ messages: { id: string }[] }>(a, `/v1/rooms/news:${room}/history`);
      expect(history.body.messages.map((m) => m.id)).toEqual(published.filter((p) => p.room === `news:${room}`).map((p) => p.id));
    }
    expect((await api(b, '/v1/stats')).body).toMatchObject({ connections: clients.length });

    // A client leaving on node A is counted out on node B; a node stopping leaves no key behind.
    clients[0]!.socket.disconnect();
    await waitFor(async () => !(await api<{ members: { userId: string }[] }>(b, '/v1/rooms/news:0/presence')).body.members.some((m) => m.userId === clients[0]!.user), {
      what: 'the leaver out of news:0 as node B sees it',
    });
    for (const client of clients) client.socket.disconnect();
    await Promise.all(nodes.map(async (node) => {
      node.child.kill('SIGTERM');
      await node.exited();
    }));
    const keys = (await Promise.all(cluster.nodes.map((node) => node.cli('KEYS', `${prefix}*`)))).flat().filter((key) => key.length > 0);
    expect(keys.filter((key) => /members|presence/.test(key))).toEqual([]);
    for (const node of nodes) {
      expect(node.output()).not.toContain(PASSWORD);
      expect(node.output()).not.toContain('unhandled rejection');
      expect(node.output()).not.toMatch(/CROSSSLOT|non local key|same slot/i);
    }
  }, 60_000);
});

describe('Redis Cluster: connection-state recovery on another node (the streams adapter)', () => {
  it('a client of a SIGKILLed node comes back on the survivor recovered, with what was published meanwhile, once', async () => {
    const cluster = await startRedisCluster({ password: PASSWORD });
    const { nodes, urls } = await twoNodes(cluster, `${unique('recovery')}:`, { RECOVERY_WINDOW_MS: '10000' });
    const proxy = await startProxy(urls[0]!); // the load balancer, in front of node A for now
    const client = await newsClient(proxy.url, 1);
    await waitFor(() => isSubscribed(client), { what: 'the client in its room on node A' });
    const ids = [(await publishNews(urls[1]!, { rooms: [client.room] })).id!];
    await waitFor(() => client.news.length === 1, { what: 'the first message (so the client holds a recovery offset)' });

    proxy.pointTo(null);
    nodes[0]!.child.kill('SIGKILL');
    await nodes[0]!.exited();
    await waitFor(() => !client.socket.connected, { what: 'the client to notice' });
    for (let n = 0; n < 3; n += 1) {
      const published = await publishNews(urls[1]!, { rooms: [client.room] });
      expect(published.status).toBe(200);
      ids.push(published.id!);
    }
    proxy.pointTo(urls[1]!);
    await waitFor(() => client.socket.connected, { timeoutMs: 10_000, what: 'the client back, on node B' });
    ids.push((await publishNews(urls[1]!, { rooms: [client.room] })).id!);
    await flush(urls[1]!, client.socket);
    expect(client.connects).toEqual([false, true]);
    expect(client.news).toEqual(ids);
  }, 40_000);
});

// ---------------------------------------------------------------------------------------------------------

const CLIENTS = 16;

/** The key (or sharded channel) whose master the failover kills: where the adapter's fan-out goes through. */
const FAN_OUT_KEY = { streams: (prefix: string) => `${prefix}stream`, sharded: (prefix: string) => `${prefix}sio#/#news:0#` };

describe.each(['streams', 'sharded'] as const)('Redis Cluster: a master killed under traffic, its replica promoted, two nodes, the %s adapter', (adapter) => {
  it('only 2xx or 503 + Retry-After (never a 500), every 2xx publish after the promotion delivered once, no password logged', async () => {
    const cluster = await startRedisCluster({ password: PASSWORD, replicas: true });
    const prefix = `${unique('failover')}:`;
    const { nodes, urls } = await twoNodes(cluster, prefix, { REDIS_ADAPTER: adapter });
    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, index) => newsClient(urls[index % 2]!, index)));
    await waitFor(() => clients.every(isSubscribed), { timeoutMs: 15_000, what: `every client in its room (${clients.filter(isSubscribed).length} are)` });

    // The master of the adapter's stream (every node's fan-out goes through it), or of room news:0's channel.
    const fanOutKey = FAN_OUT_KEY[adapter](prefix);
    const victim = await cluster.masterOf(fanOutKey);
    const published: Published[] = [];
    const traffic = steadyRoomTraffic(urls, ROOMS, published);
    await sleep(1000);
    const killedAt = Date.now();
    await victim.kill();
    // Promoted: every surviving node says the cluster is whole again, and the stream's slot has a master.
    await waitFor(async () => {
      const survivors = cluster.nodes.filter((node) => node !== victim);
      const whole = (await Promise.all(survivors.map((node) => cluster.info(node).catch(() => new Map<string, string>())))).every((facts) => facts.get('cluster_state') === 'ok');
      return whole && (await cluster.masterOf(fanOutKey).catch(() => victim)) !== victim;
    }, { timeoutMs: cluster.nodeTimeoutMs + 15_000, intervalMs: 100, what: 'a replica promoted in the killed master\'s place' });
    const promotedAt = Date.now();
    await sleep(3000);
    await traffic.stop();
    await waitFor(() => clients.every(isSubscribed), { timeoutMs: 10_000, what: `every client in its room (${clients.filter(isSubscribed).length} are)` });
    await flush(urls[0]!, ...clients.map((c) => c.socket));

    const catalogCodes = new Set(Object.keys(ERROR_CATALOG));
    const refusals = published.filter((p) => p.status === 503);
    const badAnswers = published.filter((p) => !isAllowedAnswer(p, catalogCodes));
    const accepted = published.filter((p) => p.status >= 200 && p.status < 300);
    // Settled: a little after the promotion, once every node has learnt the new slot map.
    const settledAt = promotedAt + 1000;
    const afterSettled = accepted.filter((p) => p.sentAt >= settledAt);
    const wrong = await wrongDeliveries(clients, accepted, afterSettled);
    const duringSwitch = accepted.filter((p) => p.sentAt >= killedAt && p.sentAt < promotedAt);
    const story = {
      promotedAfterKillMs: promotedAt - killedAt,
      ...refusalWindow(refusals, killedAt),
      accepted: accepted.length,
      acceptedAfterSettled: afterSettled.length,
      refusedAfterSettled: refusals.filter((p) => p.sentAt >= settledAt).length,
      acceptedDuringSwitch: duringSwitch.length,
      acceptedDuringSwitchNotDelivered: undelivered(duringSwitch, clients).length,
      reconnected: clients.filter((c) => c.connects.length > 1).length,
      joinFailures: clients.flatMap((c) => c.joinFailures).slice(0, 10),
    };
    console.log(`redis-cluster failover (${adapter}): ${JSON.stringify(story)}`);

    expect(badAnswers.slice(0, 10), JSON.stringify(story)).toEqual([]);
    expect(refusals.length, 'the switch was felt: some publishes were refused').toBeGreaterThan(0);
    expect(afterSettled.length, JSON.stringify(story)).toBeGreaterThan(20);
    expect(wrong.slice(0, 10), `${wrong.length} clients wrong; ${JSON.stringify(story)}`).toEqual([]);
    for (const url of urls) expect((await api(url, '/v1/stats')).body).toMatchObject({ connections: CLIENTS });
    for (const node of nodes) {
      expect(node.output()).not.toContain(PASSWORD);
      expect(node.output()).not.toContain('unhandled rejection');
    }
  }, 60_000);
});
