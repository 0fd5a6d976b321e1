import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { ERROR_CATALOG } from '../src/protocol/errors.js';
import { expectRefusedWhileRedisUnreachable } from './support/cluster-checks.js';
import { problemsOf } from './support/config.js';
import { api, flush, signToken, TEST_API_KEY, TEST_JWT_SECRET } from './support/gateway.js';
import { isAllowedAnswer, isSubscribed, refusalWindow, undelivered, steadyRoomTraffic, stockNewsClient, wrongDeliveries, type NewsClient, type Published } from './support/news-traffic.js';
import { CLUSTER_ENV, runCli, spawnGateway } from './support/process.js';
import { freePort, startSentinelGroup } from './support/redis.js';
import { unique } from './support/temp.js';
import { sleep, waitFor } from './support/wait.js';

/**
 * Issue 15's Redis Sentinel: REDIS_SENTINELS + REDIS_SENTINEL_NAME point every Redis connection of a node
 * at the master the Sentinels name, and a failover is an outage of a few seconds, not the end.
 */
const BASE = { NODE_ENV: 'production', API_KEYS: TEST_API_KEY, JWT_SECRET: TEST_JWT_SECRET };
const MASTER_PASSWORD = 'master-pass-4b7e1d';
const SENTINEL_PASSWORD = 'sentinel-pass-93fa0c';

describe('Redis Sentinel: configuration', () => {
  it('REDIS_SENTINELS with REDIS_SENTINEL_NAME turns the Redis engine on, the master found through the Sentinels', () => {
    const config = loadConfig({
      ...BASE, REDIS_SENTINELS: '10.0.0.5:26379, sentinel-b:26380,[fd00::7]:26379', REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD, REDIS_AUTH_PASSWORD: MASTER_PASSWORD,
    });
    expect(config.redis?.target).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: 'sentinel-b', port: 26380 }, { host: 'fd00::7', port: 26379 }],
      name: 'mymaster',
      sentinelPassword: SENTINEL_PASSWORD,
      password: MASTER_PASSWORD,
    });
    expect(loadConfig(BASE).redis).toBeUndefined();
  });

  it('refuses Sentinels next to REDIS_URL or REDIS_HOST, without a master name, and lists that are not host:port', () => {
    const sentinels = { REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'mymaster' };
    expect(problemsOf({ ...BASE, ...sentinels, REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS and REDIS_URL are exclusive/),
    ]);
    expect(problemsOf({ ...BASE, ...sentinels, REDIS_HOST: 'redis', REDIS_PORT: '6380' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS and REDIS_HOST, REDIS_PORT are exclusive/),
    ]);
    expect(problemsOf({ ...BASE, REDIS_SENTINELS: '127.0.0.1:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME .* is required with REDIS_SENTINELS/)]);
    expect(problemsOf({ ...BASE, REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([
      'REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD need REDIS_SENTINELS (host:port of each Sentinel)',
    ]);
    const problems = problemsOf({ ...BASE, REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINELS: '10.0.0.5,10.0.0.6:99999,a b:1,redis://x:26379,ok:26379' });
    expect(problems).toEqual([
      expect.stringMatching(/REDIS_SENTINELS.*"10\.0\.0\.5" is not host:port/),
      expect.stringMatching(/REDIS_SENTINELS.*"10\.0\.0\.6:99999" is not host:port/),
      expect.stringMatching(/REDIS_SENTINELS.*"a b:1" is not host:port/),
      expect.stringMatching(/REDIS_SENTINELS.*"redis:\/\/x:26379" is not host:port/),
    ]);
    expect(problemsOf({ ...BASE, REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINELS: ' , ' })).toEqual([expect.stringMatching(/REDIS_SENTINELS.*at least one Sentinel/)]);
  });

  it('switchboard check-config names the Sentinels and the master, never a password', async () => {
    const result = await runCli(['check-config'], {
      env: { ...BASE, REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASS: MASTER_PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('engine:        Redis at master "mymaster" via Sentinels 127.0.0.1:26379, 127.0.0.1:26380 (prefix switchboard:, streams adapter)');
    expect(result.stdout + result.stderr).not.toContain(MASTER_PASSWORD);
    expect(result.stdout + result.stderr).not.toContain(SENTINEL_PASSWORD);
  });
});

describe('Redis Sentinel: no Sentinel answers', () => {
  it('the node starts, says where it looked (no password), refuses with 503 + Retry-After and keeps running', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const node = spawnGateway({
      ...BASE, REDIS_SENTINELS: `127.0.0.1:${first},127.0.0.1:${second}`, REDIS_SENTINEL_NAME: 'sbmaster',
      REDIS_PASS: MASTER_PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
    });
    const url = await node.listening();
    expect(node.output()).toContain(`Redis is unreachable at master \\"sbmaster\\" via Sentinels 127.0.0.1:${first}, 127.0.0.1:${second} (REDIS_SENTINELS/REDIS_SENTINEL_NAME)`);
    await expectRefusedWhileRedisUnreachable(node, url, [MASTER_PASSWORD, SENTINEL_PASSWORD]);
  });
});

// ---------------------------------------------------------------------------------------------------------

const CLIENTS = 20;
const ROOMS = 4;
/** Clients started while the Sentinels fail over, one every {@link SWITCH_CLIENT_EVERY_MS} from the kill. */
const SWITCH_CLIENTS = 6;
const SWITCH_CLIENT_EVERY_MS = 200;

describe('Redis Sentinel: the master lost under traffic, two nodes', () => {
  // killed: its connections reset at once; frozen (SIGSTOP, a host gone silent): they stay open, and only the
  // Sentinels' +switch-master (ioredis's failoverDetector) moves the nodes to the new master.
  for (const failure of ['killed', 'frozen'] as const) it(`master ${failure}: only 2xx or 503 + Retry-After, ready again after the failover, every 2xx publish since then delivered once, clients of the switch connected, no password logged`, async () => {
    const group = await startSentinelGroup({ password: MASTER_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
    const prefix = `${unique('sentinel')}:`;
    const nodes = [0, 1].map(() => spawnGateway({
      ...CLUSTER_ENV,
      LOG_LEVEL: 'trace',
      REDIS_SENTINELS: group.sentinelList,
      REDIS_SENTINEL_NAME: group.name,
      REDIS_PASS: MASTER_PASSWORD,
      REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
      REDIS_DATA_PREFIX: prefix,
      PUBLIC_ROOMS: 'news:*',
    }));
    const urls = await Promise.all(nodes.map(async (node) => {
      const url = await node.listening();
      await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 10_000, what: `${url} ready` });
      return url;
    }));

    const newClient = async (index: number) => {
      const user = unique(`u${index}`);
      return stockNewsClient(urls[index % 2]!, user, `news:${index % ROOMS}`, { token: await signToken({ user_id: user, session_id: unique('s') }) });
    };
    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, index) => newClient(index)));
    await waitFor(() => clients.every(isSubscribed), { timeoutMs: 15_000, what: `every client in its room (${clients.filter(isSubscribed).length} are)` });

    const published: Published[] = [];
    const traffic = steadyRoomTraffic(urls, ROOMS, published);
    await sleep(1000);
    const killedAt = Date.now();
    if (failure === 'killed') await group.master.kill();
    else group.master.pause();
    // Ready again: each node answered /readyz with something else than 200 since the kill, and 200 now
    // (frozen: the nodes may never see their connections drop before +switch-master, so 200 after the switch).
    const readyz = urls.map(() => [] as number[]);
    let readyAt = Number.NaN;
    const readyAgain = waitFor(async () => {
      const answers = await Promise.all(urls.map(async (url) => (await fetch(`${url}/readyz`)).status));
      answers.forEach((status, index) => readyz[index]!.push(status));
      if (failure === 'frozen' && await group.masterPort() !== group.replica.port) return false;
      if (!readyz.every((seen) => (failure === 'frozen' || seen.some((status) => status !== 200)) && seen.at(-1) === 200)) return false;
      readyAt = Date.now();
      return true;
    }, { timeoutMs: group.downAfterMs + 10_000, intervalMs: 50, what: 'both nodes not ready, then ready again after the failover' });
    // Meanwhile clients arrive, while the Sentinels vote and promote the replica.
    const switchClients: Promise<NewsClient>[] = [];
    const switchStartedAt: number[] = [];
    for (let index = 0; index < SWITCH_CLIENTS; index += 1) {
      switchStartedAt.push(Date.now());
      switchClients.push(newClient(CLIENTS + index));
      await sleep(SWITCH_CLIENT_EVERY_MS);
    }
    await readyAgain;
    expect(await group.masterPort(), 'the master the Sentinels name now').toBe(group.replica.port);
    await sleep(2000);
    await traffic.stop();

    const lateClients = await Promise.all(switchClients);
    const everyone = [...clients, ...lateClients];
    await waitFor(() => everyone.every(isSubscribed), { timeoutMs: 10_000, what: `every client (and those of the switch) in its room (${everyone.filter(isSubscribed).length} are)` });
    await flush(urls[0]!, ...everyone.map((c) => c.socket));

    // Every answer: 2xx, or 503 with Retry-After and a catalog body; never a 500, never silence.
    const catalogCodes = new Set(Object.keys(ERROR_CATALOG));
    const refusals = published.filter((p) => p.status === 503);
    const badAnswers = published.filter((p) => !isAllowedAnswer(p, catalogCodes));
    const accepted = published.filter((p) => p.status >= 200 && p.status < 300);
    const afterReady = accepted.filter((p) => p.sentAt >= readyAt);
    const beforeKill = accepted.filter((p) => p.sentAt < killedAt);
    // Subscribed at the time of the publish and since: what it must get, exactly once.
    const wrong = await wrongDeliveries(everyone, accepted, afterReady);
    // Measured, not asserted: acknowledged before the kill and never delivered to a client in its room since before.
    const lostBeforeKill = undelivered(beforeKill, clients);
    // Measured too: accepted publishes missing from their room's history now, and history places given twice.
    const inHistory = new Set<string>();
    for (let room = 0; room < ROOMS; room += 1) {
      const page = await api<{ messages: { id: string }[] }>(urls[0]!, `/v1/rooms/news:${room}/history`);
      for (const message of page.body.messages) inHistory.add(message.id);
    }
    const places = accepted.flatMap((p) => (p.place === undefined ? [] : [`${p.room} ${p.place}`]));
    const story = {
      readyAfterKillMs: readyAt - killedAt,
      ...refusalWindow(refusals, killedAt),
      accepted: accepted.length,
      acceptedAfterReady: afterReady.length,
      refusedAfterReady: refusals.filter((p) => p.sentAt >= readyAt).length,
      acceptedBeforeKill: beforeKill.length,
      lostBeforeKill: lostBeforeKill.length,
      historyLostBeforeReady: accepted.filter((p) => p.sentAt < readyAt && !inHistory.has(p.id!)).length,
      historyPlacesGivenTwice: places.length - new Set(places).size,
      acceptedDuringSwitch: accepted.filter((p) => p.sentAt >= killedAt && p.sentAt < readyAt).length,
      readyzNot200: readyz.map((seen) => seen.filter((status) => status !== 200).length),
      switchClientsStartedBeforeReady: switchStartedAt.filter((at) => at < readyAt).length,
      recoveredConnects: everyone.filter((c) => c.connects.some((recovered) => recovered)).length,
      reconnected: everyone.filter((c) => c.connects.length > 1).length,
      switchClientsInRoomAfterKillMs: lateClients.map((c) => c.subscribedSince! - killedAt),
      connectErrors: everyone.flatMap((c) => c.connectErrors).slice(0, 10),
      joinFailures: everyone.flatMap((c) => c.joinFailures).slice(0, 10),
    };
    console.log(`redis-sentinel failover: ${JSON.stringify(story)}`);

    expect(badAnswers.slice(0, 10), JSON.stringify(story)).toEqual([]);
    expect(refusals.length, 'the switch was felt: some publishes were refused').toBeGreaterThan(0);
    expect(afterReady.length, JSON.stringify(story)).toBeGreaterThan(20);
    expect(wrong.slice(0, 10), `${wrong.length} clients wrong; ${JSON.stringify(story)}`).toEqual([]);
    expect(lateClients.every((c) => c.socket.connected)).toBe(true);
    expect(switchStartedAt.filter((at) => at < readyAt).length, 'clients started during the switch').toBeGreaterThan(0);

    // The views of Redis: presence counts every client on both nodes; the metrics time the commands and count those refused.
    let engineErrors = 0;
    for (const url of urls) {
      expect((await api(url, '/v1/stats')).body).toMatchObject({ connections: CLIENTS + SWITCH_CLIENTS });
      const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).text();
      expect(metrics).toMatch(/^switchboard_redis_command_duration_seconds_count(\{[^}]*\})? [1-9]\d*$/m);
      engineErrors += Number(/^switchboard_engine_errors_total(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1] ?? 0);
    }
    expect(engineErrors).toBeGreaterThan(0);
    for (const node of nodes) {
      expect(node.output()).toContain(failure === 'killed' ? '"msg":"redis unavailable; retrying"' : '"msg":"redis not answering; connections made again"');
      expect(node.output()).not.toContain(MASTER_PASSWORD);
      expect(node.output()).not.toContain(SENTINEL_PASSWORD);
      expect(node.output()).not.toContain('unhandled rejection');
    }
  }, 60_000);
});
