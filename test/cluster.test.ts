import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api, connectAs, flush, nextEvent, openClient, recordEvents, signToken,
  type ErrorResponse,
} from './support/gateway.js';
import { CLUSTER_ENV, CLUSTER_HEARTBEAT_MS, spawnGateway, spawnSharedGateway, type GatewayProcess, type SharedGatewayProcess } from './support/process.js';
import {
  connectThroughProxy, dropClient, expectClusterPresence, expectForceLogoutEverywhere, expectOrderedDelivery, expectRecovery, expectTargetedDelivery, getUser, publish, reconnectClient, roomSize, sessionEvents, stats,
} from './support/cluster-checks.js';
import { freePort, startRedis, type TestRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { sleep, waitFor } from './support/wait.js';

/**
 * Several gateway processes on one redis-server (the Redis engine): fan-out, session control, presence,
 * connection-state recovery across nodes, node death, Redis unreachable at start, and key prefixes.
 * Cross-node behaviour that does not depend on Redis runs in-process: in-process-cluster.test.ts.
 */
const HEARTBEAT_MS = CLUSTER_HEARTBEAT_MS;
const ENV = CLUSTER_ENV;

/** One redis-server for the describe blocks that share one; each block has its own REDIS_DATA_PREFIX. */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ cleanup: 'manual' });
});
afterAll(async () => {
  await redis.kill();
});

describe('three nodes on one Redis', () => {
  const nodes = sharedNodes(() => {
    const env = { ...ENV, REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:` };
    return [env, env, env];
  });

  it('runs the Redis engine on every node, and every node is ready', async () => {
    for (const url of nodes.urls) {
      const stats = await api<{ node: { engine: string } }>(url, '/v1/stats');
      expect(stats.body.node.engine).toBe('redis');
      const ready = await api<{ engine: string }>(url, '/readyz', { key: null });
      expect(ready.status).toBe(200);
      expect(ready.body.engine).toBe('up');
    }
  });

  it('answers GET /v1/users, /v1/rooms/{room} and /v1/stats for the whole cluster from any node (presence in Redis)', async () => {
    await expectClusterPresence(nodes.urls);
  });

  it('delivers a publish accepted by any node to every matching socket on every node, once', async () => {
    await expectTargetedDelivery(nodes.urls);
  });

  it('keeps publish order per room on every node (consecutive publishes through different nodes, over Redis)', async () => {
    await expectOrderedDelivery(nodes.urls, nodes.urls);
  });

  it('/internal/force-logout on one node logs out the other sessions on every node (active sessions in Redis)', async () => {
    await expectForceLogoutEverywhere(nodes.urls);
  });

  it('recovers a client that drops and reconnects to the same node: every missed message once, in order', async () => {
    const [a, , c] = nodes.urls as [string, string, string];
    await expectRecovery({ from: a, to: a, publishVia: c });
  });

  it('recovers a client that drops and reconnects to another node: every missed message once, in order', async () => {
    const [a, b] = nodes.urls as [string, string];
    await expectRecovery({ from: a, to: b, publishVia: b });
  });
});

describe('recovery window', () => {
  const nodes = sharedNodes(() => [
    { ...ENV, REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:`, RECOVERY_WINDOW_MS: '1000' },
    { ...ENV, REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:`, RECOVERY_WINDOW_MS: '0' },
  ]);

  it('does not recover a client that stayed away longer than RECOVERY_WINDOW_MS', async () => {
    const url = nodes.urls[0]!;
    const { proxy, socket, user, got } = await connectThroughProxy(url);
    await publish(url, { event: 'news', data: 'before', users: [user] });
    await waitFor(() => expect(got).toHaveLength(1));
    await dropClient(proxy, socket);
    await publish(url, { event: 'news', data: 'missed', users: [user] });
    await sleep(1000 + 1000);
    await reconnectClient(proxy, socket, url);
    expect(socket.recovered).toBeFalsy(); // stock client: false, or undefined when the server has recovery off
    await publish(url, { event: 'news', data: 'after', users: [user] });
    await flush(url, socket);
    expect(got.map((d) => d.data)).toEqual(['before', 'after']);
  });

  it('RECOVERY_WINDOW_MS=0 turns recovery off: events carry (data, { id }) and nothing is replayed', async () => {
    const url = nodes.urls[1]!;
    const { proxy, socket, user, got } = await connectThroughProxy(url);
    const id = await publish(url, { event: 'news', data: 'before', users: [user] });
    await waitFor(() => expect(got).toHaveLength(1));
    expect(got[0]!.args).toHaveLength(2); // (data, meta): no recovery offset
    expect(got[0]!.data).toBe('before');
    expect(got[0]!.meta).toMatchObject({ id });
    await dropClient(proxy, socket);
    await publish(url, { event: 'news', data: 'missed', users: [user] });
    await reconnectClient(proxy, socket, url);
    expect(socket.recovered).toBeFalsy(); // stock client: false, or undefined when the server has recovery off
    await publish(url, { event: 'news', data: 'after', users: [user] });
    await flush(url, socket);
    expect(got.map((d) => d.data)).toEqual(['before', 'after']);
    expect(got.every((d) => d.args.length === 2)).toBe(true);
  });
});

describe('two nodes with SESSION_POLICY=latest', () => {
  const nodes = sharedNodes(() => {
    const env = { ...ENV, REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:`, SESSION_POLICY: 'latest' };
    return [env, env];
  });

  it('leaves exactly one active session when two logins of a user arrive on two nodes ~10 ms apart', async () => {
    const [a, b] = nodes.urls as [string, string];
    const races = [
      { first: a, second: b, gapMs: 10 },
      { first: b, second: a, gapMs: 10 },
      { first: a, second: b, gapMs: 0 },
    ];
    await Promise.all(
      races.map(async ({ first, second, gapMs }) => {
        const user = unique('racer');
        const sessions = [unique('one'), unique('two')] as const;
        const tokens = await Promise.all(sessions.map((session) => signToken({ user_id: user, session_id: session })));
        const one = openClient(first, { auth: { token: tokens[0] } });
        const oneLog = sessionEvents(one);
        await sleep(gapMs);
        const two = openClient(second, { auth: { token: tokens[1] } });
        const twoLog = sessionEvents(two);
        await waitFor(() => {
          expect(oneLog[0]).toBe('connect');
          expect(twoLog[0]).toBe('connect');
        });

        let active = '';
        await waitFor(async () => {
          const views = await Promise.all([a, b].map((url) => getUser(url, user)));
          const context = JSON.stringify({ views, first: oneLog, second: twoLog });
          for (const view of views) {
            expect(view.sessions, context).toHaveLength(1);
            expect(view.activeSession, context).toBe(view.sessions[0]);
          }
          expect(views[0]!.activeSession).toBe(views[1]!.activeSession);
          active = views[0]!.activeSession!;
        });
        const [winner, winnerLog, loserLog] = active === sessions[0] ? [one, oneLog, twoLog] : [two, twoLog, oneLog];
        await waitFor(() => expect(loserLog).toEqual(['connect', 'auth:logout:session-replaced', 'disconnect:io server disconnect']));

        // Settled: still one session, the same on both nodes, and the winner is still connected and served.
        await sleep(300);
        for (const url of [a, b]) {
          const view = await getUser(url, user);
          expect(view.sessions).toEqual([active]);
          expect(view.activeSession).toBe(active);
        }
        await flush(second, winner);
        expect(winnerLog).toEqual(['connect']);
      }),
    );
  });

  // Kills node A: keep this the last test of the block.
  it('drops the users of a SIGKILLed node from the surviving node within 2x PRESENCE_HEARTBEAT_MS', async () => {
    const [a, b] = nodes.urls as [string, string];
    const [victim, both, survivor] = [unique('victim'), unique('both'), unique('survivor')];
    const [sv, sboth, ss] = [unique('s'), unique('s'), unique('s')];
    await connectAs(a, victim, sv);
    await connectAs(a, victim, sv);
    await connectAs(a, both, sboth);
    const bothB = await connectAs(b, both, sboth);
    const survivorB = await connectAs(b, survivor, ss);
    await waitFor(async () => {
      expect((await getUser(b, victim)).connections).toHaveLength(2);
      expect(await roomSize(b, `user:${both}`)).toBe(2);
    });

    nodes.processes[0]!.child.kill('SIGKILL');
    // 2x the heartbeat, plus slack for polling over HTTP on a busy machine.
    await waitFor(async () => {
      expect(await getUser(b, victim)).toMatchObject({ online: false, connections: [], sessions: [] });
      expect(await roomSize(b, `user:${victim}`)).toBe(0);
      expect(await roomSize(b, `session:${sv}`)).toBe(0);
      expect((await getUser(b, both)).connections.map((c) => c.socketId)).toEqual([bothB.id]);
      expect(await roomSize(b, `user:${both}`)).toBe(1);
    }, { timeoutMs: 2 * HEARTBEAT_MS + 1000 });

    // The surviving node's own users are untouched.
    const kept = await getUser(b, survivor);
    expect(kept).toMatchObject({ online: true, sessions: [ss] });
    expect(kept.connections.map((c) => c.socketId)).toEqual([survivorB.id]);
    expect(await roomSize(b, `user:${survivor}`)).toBe(1);
    expect(await stats(b)).toEqual({ connections: 2, users: 2, rooms: 4 });
    const arrival = nextEvent(survivorB, 'still:here');
    await publish(b, { event: 'still:here', data: 1, users: [survivor] });
    await arrival;
    expect(bothB.connected && survivorB.connected).toBe(true);
  });
});

describe('Redis unreachable at start', () => {
  it('stays up, answers /readyz 503, and becomes ready by itself once Redis is up', async () => {
    const port = await freePort();
    const node = spawnGateway({ ...ENV, REDIS_URL: `redis://127.0.0.1:${port}/0`, REDIS_DATA_PREFIX: `${unique('sbtest')}:` });
    const url = await node.listening();
    expect((await api(url, '/healthz', { key: null })).status).toBe(200);
    const notReady = await api<{ engine: string }>(url, '/readyz', { key: null });
    expect(notReady.status).toBe(503);
    expect(notReady.body.engine).toBe('down');
    const refused = await api<ErrorResponse>(url, '/v1/publish', { body: { event: 'early', data: 1, broadcast: true } });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('ENGINE_UNAVAILABLE');
    expect(refused.headers.get('retry-after')).not.toBeNull();

    await sleep(1000);
    expect(node.child.exitCode, `the gateway exited:\n${node.output()}`).toBeNull();
    expect((await api(url, '/healthz', { key: null })).status).toBe(200);
    expect((await api(url, '/readyz', { key: null })).status).toBe(503);

    await startRedis({ port });
    await waitFor(async () => expect((await api(url, '/readyz', { key: null })).status).toBe(200), { timeoutMs: 10_000 });
    const user = unique('late');
    const socket = await connectAs(url, user, unique('s'));
    const arrival = nextEvent<[unknown]>(socket, 'hello');
    await publish(url, { event: 'hello', data: 'redis is up', users: [user] });
    expect((await arrival)[0]).toBe('redis is up');
    expect(node.child.exitCode, `the gateway exited:\n${node.output()}`).toBeNull();
  });
});

describe('split Redis settings', () => {
  it('connects with REDIS_HOST, REDIS_PORT and REDIS_PASS or REDIS_AUTH_PASSWORD to a password-protected Redis', async () => {
    const secured = await startRedis({ password: 'test-redis-password-1f4e' });
    const common = { ...ENV, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(secured.port), REDIS_DATA_PREFIX: `${unique('sbtest')}:` };
    const [a, b] = await Promise.all([
      ready(spawnGateway({ ...common, REDIS_PASS: secured.password! })),
      ready(spawnGateway({ ...common, REDIS_AUTH_PASSWORD: secured.password! })),
    ]);
    for (const url of [a!, b!]) {
      expect((await api<{ node: { engine: string } }>(url, '/v1/stats')).body.node.engine).toBe('redis');
    }
    const user = unique('split');
    const socket = await connectAs(b!, user, unique('s'));
    const arrival = nextEvent<[unknown]>(socket, 'hello');
    await publish(a!, { event: 'hello', data: 'via a', users: [user] });
    expect((await arrival)[0]).toBe('via a');
    await waitFor(async () => expect((await getUser(a!, user)).connections.map((c) => c.socketId)).toEqual([socket.id]));
  });
});

describe('REDIS_DATA_PREFIX', () => {
  it('keeps two deployments on one redis-server apart: publishes, presence and sessions', async () => {
    const own = await startRedis();
    // Deployment X: two nodes with the default prefix; deployment Y: one node with its own.
    const x = { ...ENV, REDIS_URL: own.url };
    const y = { ...ENV, REDIS_URL: own.url, REDIS_DATA_PREFIX: 'tenant-b:' };
    const [x1, x2, y1] = await Promise.all([x, x, y].map((env) => ready(spawnGateway(env))));
    const user = 'same-user';
    const onX = await connectAs(x2!, user, 'same-session');
    const onY = await connectAs(y1!, user, 'same-session');
    const xEvents = recordEvents(onX);
    const yEvents = recordEvents(onY);

    const xArrivals = Promise.all([nextEvent(onX, 'for:x'), nextEvent(onX, 'for:x-all')]);
    await publish(x1!, { event: 'for:x', data: 1, users: [user] });
    await publish(x1!, { event: 'for:x-all', data: 2, broadcast: true });
    await xArrivals; // X's publishes cross X's nodes...
    const yArrival = nextEvent(onY, 'for:y');
    await publish(y1!, { event: 'for:y', data: 3, users: [user] });
    await yArrival;
    await flush(y1!, onY);
    await flush(x1!, onX);
    const names = (events: { event: string }[]) => events.map((e) => e.event).filter((event) => event !== 'test:marker');
    expect(names(yEvents)).toEqual(['for:y']); // ...but not into Y
    expect(names(xEvents)).toEqual(['for:x', 'for:x-all']);

    // Presence: each deployment sees its own socket only.
    await waitFor(async () => {
      expect((await getUser(x1!, user)).connections.map((c) => c.socketId)).toEqual([onX.id]);
      expect((await getUser(y1!, user)).connections.map((c) => c.socketId)).toEqual([onY.id]);
      expect(await roomSize(x1!, `user:${user}`)).toBe(1);
      expect(await roomSize(y1!, `user:${user}`)).toBe(1);
      expect((await stats(x1!)).connections).toBe(1);
      expect((await stats(y1!)).connections).toBe(1);
    });

    // Sessions: a force-logout in X leaves Y's session alone.
    const loggedOut = nextEvent(onX, 'auth:logout');
    const forced = await api(x1!, '/internal/force-logout', { body: { userId: user, sessionId: 'another-session' } });
    expect(forced.body).toEqual({ ok: true, disconnected: 1 });
    await loggedOut;
    expect((await getUser(y1!, user)).activeSession).toBeNull();
    await flush(y1!, onY);
    expect(onY.connected).toBe(true);

    // Every key and channel either deployment uses carries its prefix.
    const keys = await own.cli('KEYS', '*');
    const channels = [...(await own.cli('PUBSUB', 'CHANNELS', '*')), ...(await own.cli('PUBSUB', 'SHARDCHANNELS', '*'))];
    const unprefixed = (names: string[]) => names.filter((name) => !name.startsWith('switchboard:') && !name.startsWith('tenant-b:'));
    expect(unprefixed(keys)).toEqual([]);
    expect(unprefixed(channels)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** Gateway processes a describe block shares (spawned in parallel before its first test, killed after its last). */
function sharedNodes(envs: () => Record<string, string>[]): { urls: string[]; processes: SharedGatewayProcess[] } {
  const nodes = { urls: [] as string[], processes: [] as SharedGatewayProcess[] };
  beforeAll(async () => {
    nodes.processes = envs().map((env) => spawnSharedGateway(env));
    nodes.urls = await Promise.all(nodes.processes.map((node) => ready(node)));
  });
  afterAll(async () => {
    await Promise.all(nodes.processes.map((node) => node.kill()));
  });
  return nodes;
}

/** The node's URL once it listens and `/readyz` answers 200 (as a load balancer would wait for). */
async function ready(node: GatewayProcess, timeoutMs = 15_000): Promise<string> {
  const url = await node.listening(timeoutMs);
  await waitFor(async () => expect((await api(url, '/readyz', { key: null })).status, node.output()).toBe(200), { timeoutMs });
  return url;
}



