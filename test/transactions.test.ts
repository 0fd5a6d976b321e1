import { describe, expect, it } from 'vitest';
import { namespaceTable } from '../src/realtime/namespace-table.js';
import {
  TEST_API_KEY, TEST_JWT_SECRET, api, connectClient, disconnectReason, expectConnectError, nextEvent, signToken, startGateway,
} from './support/gateway.js';
import { spawnGateway } from './support/process.js';
import { startRedis } from './support/redis.js';
import { freshDir } from './support/temp.js';
import { sleep } from './support/wait.js';

const register = (url: string, clientId: string, subscriptions: string[]) =>
  api(url, '/client', { body: { clientId, payload: { id: clientId, name: clientId.toUpperCase(), subscriptions } } });

const merchantToken = (clientId: string) => signToken({ user_id: `staff-of-${clientId}`, clientId });

describe('seed 000: clients and transaction events', () => {
  it('delivers a transaction event to the client namespace and to its per-event namespace', async () => {
    const { url } = await startGateway();
    expect(await register(url, 'xyz', ['completed', 'cancelled'])).toMatchObject({ status: 200, body: { clientId: 'xyz', subscriptions: ['completed', 'cancelled'] } });
    const token = await merchantToken('xyz');
    const all = await connectClient(`${url}/xyz`, token);
    const completedOnly = await connectClient(`${url}/xyz/completed`, token);
    const arrivals = [nextEvent(all, 'completed'), nextEvent(completedOnly, 'completed')];
    const response = await api<{ delivered: boolean; id: string }>(url, '/completed', { body: { clientId: 'xyz', payload: { orderId: 9 } } });
    expect(response.body).toEqual({ delivered: true, id: expect.any(String) });
    for (const [payload, meta] of await Promise.all(arrivals)) {
      expect(payload).toEqual({ orderId: 9 });
      expect(meta).toEqual({ id: response.body.id });
    }
    expect((await api(url, '/denied', { body: { clientId: 'xyz', payload: {} } })).body).toEqual({ delivered: false, reason: expect.stringContaining('denied') });
    expect(await api(url, '/completed', { body: { clientId: 'nope', payload: {} } })).toMatchObject({ status: 404, body: { error: { code: 'UNKNOWN_CLIENT' } } });
    // One publication (through the publisher, counted once though it reaches two namespaces); undelivered ones are not counted.
    expect((await api(url, '/v1/stats')).body).toMatchObject({ published: 1 });
  });

  it('emits /denied and /declined under their own names, and manages subscriptions with /event', async () => {
    const { url } = await startGateway();
    await register(url, 'acme', []);
    expect(await api(url, '/event', { body: { clientId: 'acme', eventName: 'denied' } })).toMatchObject({ status: 200, body: { subscriptions: ['denied'] } });
    await api(url, '/event', { body: { clientId: 'acme', eventName: 'declined' } });
    const socket = await connectClient(`${url}/acme`, await merchantToken('acme'));
    const denied = nextEvent(socket, 'denied');
    await api(url, '/denied', { body: { clientId: 'acme', payload: 1 } });
    expect((await denied)[0]).toBe(1);
    const declined = nextEvent(socket, 'declined');
    await api(url, '/declined', { body: { clientId: 'acme', payload: 2 } });
    expect((await declined)[0]).toBe(2);
    expect(await api(url, '/event', { body: { clientId: 'acme', eventName: 'refunded' } })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY' } } });
    expect(await api(url, '/event', { body: { clientId: 'ghost', eventName: 'denied' } })).toMatchObject({ status: 404, body: { error: { code: 'UNKNOWN_CLIENT' } } });
  });

  it('refuses namespaces of unknown clients, other clients, and unsubscribed events; admins may enter any', async () => {
    const { url } = await startGateway();
    await register(url, 'shop', ['completed']);
    expect((await expectConnectError(`${url}/unknown`, { auth: { token: await merchantToken('unknown') } })).data?.code).toBe('UNKNOWN_CLIENT');
    expect((await expectConnectError(`${url}/shop`, { auth: { token: await merchantToken('other') } })).data?.code).toBe('CLIENT_FORBIDDEN');
    expect((await expectConnectError(`${url}/shop/cancelled`, { auth: { token: await merchantToken('shop') } })).data?.code).toBe('EVENT_NOT_SUBSCRIBED');
    expect((await expectConnectError(`${url}/shop`, { auth: { token: 'bad' } })).data?.code).toBe('TOKEN_INVALID');
    await connectClient(`${url}/shop`, await signToken({ user_id: 'ops', role: 'admin' }));
  });

  it('refuses client ids that are not URL-safe, and leaves no namespace behind for refused connections', async () => {
    const { url, gateway } = await startGateway();
    expect(await register(url, 'a/completed', [])).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY' } } });
    expect(await register(url, 'a b', [])).toMatchObject({ status: 400 });
    const namespaces = () => namespaceTable(gateway.io).size;
    const before = namespaces();
    const token = await merchantToken('nobody');
    for (let i = 0; i < 10; i += 1) expect((await expectConnectError(`${url}/made-up-${i}`, { auth: { token } })).data?.code).toBe('UNKNOWN_CLIENT');
    await sleep(50);
    expect(namespaces()).toBe(before);
  });

  it('disconnects the sockets of a removed subscription or client', async () => {
    const { url } = await startGateway();
    await register(url, 'gone', ['completed', 'cancelled']);
    const token = await merchantToken('gone');
    const [all, completed, cancelled] = [await connectClient(`${url}/gone`, token), await connectClient(`${url}/gone/completed`, token), await connectClient(`${url}/gone/cancelled`, token)];
    const completedGone = disconnectReason(completed);
    expect((await api(url, '/event?clientId=gone&eventName=completed', { method: 'DELETE' })).status).toBe(200);
    expect(await completedGone).toBe('io server disconnect');
    expect(all.connected && cancelled.connected).toBe(true);
    const everyoneGone = [disconnectReason(all), disconnectReason(cancelled)];
    expect((await api(url, '/client?id=gone', { method: 'DELETE' })).status).toBe(200);
    expect(await Promise.all(everyoneGone)).toEqual(['io server disconnect', 'io server disconnect']);
    expect(await api(url, '/client?id=gone', { method: 'DELETE' })).toMatchObject({ status: 404, body: { error: { code: 'UNKNOWN_CLIENT' } } });
  });

  it('takes an admin JWT or an API key, and refuses other tokens', async () => {
    const { url } = await startGateway();
    const admin = await signToken({ user_id: 'boss', role: 'admin' });
    expect((await api(url, '/client', { key: admin, body: { clientId: 'viaJwt', payload: { subscriptions: [] } } })).status).toBe(200);
    expect(await api(url, '/client', { key: await signToken({ user_id: 'pleb' }), body: { clientId: 'x' } })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await api(url, '/client', { key: null, body: { clientId: 'x' } })).toMatchObject({ status: 401 });
    expect((await api(url, '/client', { key: null, headers: { 'x-api-key': TEST_API_KEY }, body: { clientId: 'viaKey' } })).status).toBe(200);
  });
});

describe('seed 000: the registry is durable and shared', () => {
  it('survives a restart (SQLite under DATA_DIR)', async () => {
    const dataDir = freshDir('registry');
    const env = { NODE_ENV: 'production', API_KEYS: TEST_API_KEY, JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir };
    const first = spawnGateway(env);
    const url = await first.listening();
    expect((await register(url, 'durable', ['completed'])).status).toBe(200);
    first.child.kill('SIGTERM');
    await first.exited();
    const second = spawnGateway({ ...env, PORT: new URL(url).port });
    const again = await second.listening();
    expect((await api(again, '/completed', { body: { clientId: 'durable', payload: {} } })).body).toEqual({ delivered: true, id: expect.any(String) });
  });

  it('is one registry for every node on Redis, and events reach namespaces on other nodes', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'tenants:' };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    await register(a.url, 'shared', ['completed']);
    const socket = await connectClient(`${b.url}/shared`, await merchantToken('shared'));
    await sleep(100);
    const got = nextEvent(socket, 'completed');
    expect((await api(a.url, '/completed', { body: { clientId: 'shared', payload: 'x' } })).body).toMatchObject({ delivered: true });
    expect((await got)[0]).toBe('x');
  });
});

describe('seed 000: Redis away', () => {
  it('answers 503 ENGINE_UNAVAILABLE with Retry-After, never a 500, while Redis is down', async () => {
    const redis = await startRedis();
    const { url } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'tenants-down:' });
    await register(url, 'offline', ['completed']);
    await redis.kill();
    while ((await fetch(`${url}/readyz`)).status !== 503) await sleep(20);
    const response = await api(url, '/completed', { body: { clientId: 'offline', payload: {} } });
    expect(response).toMatchObject({ status: 503, body: { error: { code: 'ENGINE_UNAVAILABLE' } } });
    expect(response.headers.get('retry-after')).toBe('1');
  });
});
