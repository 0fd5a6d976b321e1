import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../src/protocol/errors.js';
import { createLogger } from '../src/runtime/logger.js';
import type { ClientRegistry } from '../src/stores/client-registry.js';
import { RedisClientRegistry } from '../src/stores/redis-client-registry.js';
import { RedisConnection } from '../src/stores/redis-connection.js';
import { SqliteClientRegistry } from '../src/stores/sqlite-client-registry.js';
import { onCleanup } from './support/cleanup.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { freshDir, unique } from './support/temp.js';

/** Opens registries on one store: each call is another instance (another connection) on the same data. */
type OpenStore = () => Promise<() => Promise<ClientRegistry>>;

function openSqlite(dir: string): SqliteClientRegistry {
  const registry = new SqliteClientRegistry(dir);
  onCleanup(() => registry.close());
  return registry;
}

let redis: TestRedis;

/** A node's Redis connection (fail-fast commands, as the gateway's), closed after the test. */
function openConnection(url: string): RedisConnection {
  const connection = new RedisConnection({ kind: 'server', url }, unique('node'), createLogger('silent'));
  onCleanup(() => connection.close());
  return connection;
}

/** The same, once connected. */
async function connectRedis(): Promise<RedisConnection> {
  const connection = openConnection(redis.url);
  if (!connection.isReady()) await once(connection.client, 'ready');
  return connection;
}

const stores: [string, OpenStore][] = [
  [
    'SqliteClientRegistry',
    async () => {
      const dir = freshDir('registry');
      return async () => openSqlite(dir);
    },
  ],
  [
    'RedisClientRegistry',
    async () => {
      const prefix = `${unique('test')}:`;
      return async () => new RedisClientRegistry(await connectRedis(), prefix);
    },
  ],
];

beforeAll(async () => {
  redis = await startRedis({ cleanup: 'manual' });
});
afterAll(() => redis.kill());

describe.each(stores)('%s', (_name, openStore) => {
  /** A fresh, empty store and one registry on it; `open` makes more instances on the same store. */
  const freshStore = async () => {
    const open = await openStore();
    return { clients: await open(), open };
  };

  it('puts, gets and replaces a client, keeping subscriptions unique and sorted', async () => {
    const { clients } = await freshStore();
    expect(await clients.get('merchant-1')).toBeUndefined();

    await clients.put({ clientId: 'merchant-1', name: 'Acme', subscriptions: ['payment.settled', 'payment.created', 'payment.settled'] });
    expect(await clients.get('merchant-1')).toEqual({ clientId: 'merchant-1', name: 'Acme', subscriptions: ['payment.created', 'payment.settled'] });

    await clients.put({ clientId: 'merchant-1', name: undefined, subscriptions: ['refund.issued'] });
    expect(await clients.get('merchant-1')).toEqual({ clientId: 'merchant-1', name: undefined, subscriptions: ['refund.issued'] });

    await clients.put({ clientId: 'merchant-1', name: 'Acme 2', subscriptions: [] });
    expect(await clients.get('merchant-1')).toEqual({ clientId: 'merchant-1', name: 'Acme 2', subscriptions: [] });
  });

  it('removes a client, answering false when it was not registered', async () => {
    const { clients } = await freshStore();
    await clients.put({ clientId: 'merchant-2', name: 'Beta', subscriptions: ['payment.created'] });

    expect(await clients.remove('merchant-2')).toBe(true);
    expect(await clients.get('merchant-2')).toBeUndefined();
    expect(await clients.remove('merchant-2')).toBe(false);
    expect(await clients.subscribe('merchant-2', 'payment.created')).toBeUndefined();
  });

  it('subscribes and unsubscribes one event at a time, ignoring duplicates and unknown clients', async () => {
    const { clients } = await freshStore();
    expect(await clients.subscribe('nobody', 'payment.created')).toBeUndefined();
    expect(await clients.unsubscribe('nobody', 'payment.created')).toBeUndefined();
    expect(await clients.get('nobody')).toBeUndefined();

    await clients.put({ clientId: 'merchant-3', name: 'Gamma', subscriptions: [] });
    expect(await clients.subscribe('merchant-3', 'payment.settled')).toEqual({ clientId: 'merchant-3', name: 'Gamma', subscriptions: ['payment.settled'] });
    expect(await clients.subscribe('merchant-3', 'payment.created')).toEqual({
      clientId: 'merchant-3',
      name: 'Gamma',
      subscriptions: ['payment.created', 'payment.settled'],
    });
    expect((await clients.subscribe('merchant-3', 'payment.created'))?.subscriptions).toEqual(['payment.created', 'payment.settled']);

    expect(await clients.unsubscribe('merchant-3', 'payment.settled')).toEqual({ clientId: 'merchant-3', name: 'Gamma', subscriptions: ['payment.created'] });
    expect((await clients.unsubscribe('merchant-3', 'payment.settled'))?.subscriptions).toEqual(['payment.created']);
    expect((await clients.unsubscribe('merchant-3', 'payment.created'))?.subscriptions).toEqual([]);
    expect(await clients.get('merchant-3')).toEqual({ clientId: 'merchant-3', name: 'Gamma', subscriptions: [] });
  });

  it("lets two instances on the same store see each other's writes", async () => {
    const { clients: first, open } = await freshStore();
    const second = await open();
    await first.put({ clientId: 'merchant-4', name: 'Delta', subscriptions: ['payment.created'] });
    expect(await second.get('merchant-4')).toEqual({ clientId: 'merchant-4', name: 'Delta', subscriptions: ['payment.created'] });

    await second.subscribe('merchant-4', 'refund.issued');
    expect((await first.get('merchant-4'))?.subscriptions).toEqual(['payment.created', 'refund.issued']);

    expect(await second.remove('merchant-4')).toBe(true);
    expect(await first.get('merchant-4')).toBeUndefined();
  });

  it('keeps every one of 20 concurrent subscribes from two instances', async () => {
    const { clients: first, open } = await freshStore();
    const second = await open();
    await first.put({ clientId: 'merchant-5', name: 'Epsilon', subscriptions: [] });
    const events = Array.from({ length: 20 }, (_, index) => `event.${String(index).padStart(2, '0')}`);

    await Promise.all(events.map((event, index) => (index % 2 === 0 ? first : second).subscribe('merchant-5', event)));

    expect((await first.get('merchant-5'))?.subscriptions).toEqual(events);
    expect((await second.get('merchant-5'))?.subscriptions).toEqual(events);
  });
});

describe('SqliteClientRegistry storage', () => {
  it('survives closing and reopening the same directory', async () => {
    const dir = freshDir('registry');
    const before = new SqliteClientRegistry(dir);
    await before.put({ clientId: 'merchant-6', name: 'Zeta', subscriptions: ['payment.created'] });
    await before.subscribe('merchant-6', 'payment.settled');
    await before.close();

    const after = openSqlite(dir);
    expect(await after.get('merchant-6')).toEqual({ clientId: 'merchant-6', name: 'Zeta', subscriptions: ['payment.created', 'payment.settled'] });
  });

  it('creates a missing data directory', async () => {
    const dir = join(freshDir('registry'), 'nested', 'data');
    const clients = openSqlite(dir);
    await clients.put({ clientId: 'merchant-7', name: undefined, subscriptions: [] });
    expect(await clients.get('merchant-7')).toEqual({ clientId: 'merchant-7', name: undefined, subscriptions: [] });
  });
});

describe('RedisClientRegistry availability', () => {
  it('refuses with ENGINE_UNAVAILABLE while its connection is not ready', async () => {
    // Nothing listens on port 1: the connection keeps retrying and never becomes ready.
    const clients = new RedisClientRegistry(openConnection('redis://127.0.0.1:1'), `${unique('test')}:`);

    const refusal = await clients.get('merchant-8').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(GatewayError);
    expect(refusal).toMatchObject({ code: 'ENGINE_UNAVAILABLE', status: 503, retryAfterS: 1 });
    await expect(clients.subscribe('merchant-8', 'payment.created')).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
  });

  it('turns a Redis error into ENGINE_UNAVAILABLE', async () => {
    const prefix = `${unique('test')}:`;
    const clients = new RedisClientRegistry(await connectRedis(), prefix);
    await redis.cli('SET', `${prefix}{client:merchant-9}`, 'not a hash');

    await expect(clients.get('merchant-9')).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', retryAfterS: 1 });
    await expect(clients.subscribe('merchant-9', 'payment.created')).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
  });

  it('leaves the shared connection open on close', async () => {
    const connection = await connectRedis();
    await new RedisClientRegistry(connection, `${unique('test')}:`).close();
    expect(connection.isReady()).toBe(true);
    expect(await connection.client.ping()).toBe('PONG');
  });
});
