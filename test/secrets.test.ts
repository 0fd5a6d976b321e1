import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serializeError } from '../src/runtime/logger.js';
import { onCleanup } from './support/cleanup.js';
import { TEST_API_KEY, TEST_JWT_SECRET } from './support/gateway.js';
import { spawnGateway } from './support/process.js';
import { startRedis } from './support/redis.js';
import { waitFor } from './support/wait.js';

/** The environment of a gateway process that logs everything (LOG_LEVEL=trace). */
const BASE_ENV = { NODE_ENV: 'test', LOG_LEVEL: 'trace', API_KEYS: TEST_API_KEY, JWT_SECRET: TEST_JWT_SECRET };

/**
 * A PostgreSQL stand-in that asks for a cleartext password (as `password` authentication in pg_hba.conf
 * does), records it and refuses it with 28P01, as a server does for a wrong password.
 */
async function startPasswordRefusingPostgres(): Promise<{ port: number; passwords: string[] }> {
  const passwords: string[] = [];
  const server = createServer((socket: Socket) => {
    let buffered = Buffer.alloc(0);
    let started = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!started && buffered.length >= 4 && buffered.length >= buffered.readInt32BE(0)) {
        started = true;
        buffered = buffered.subarray(buffered.readInt32BE(0));
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
      }
      if (started && buffered.length >= 5 && buffered[0] === 0x70 && buffered.length >= 1 + buffered.readInt32BE(1)) {
        passwords.push(buffered.subarray(5, buffered.readInt32BE(1)).toString().replace(/\0$/, ''));
        const fields = ['SFATAL', 'VFATAL', 'C28P01', 'Mpassword authentication failed for user "switchboard"'];
        const body = Buffer.concat([...fields.map((field) => Buffer.from(`${field}\0`)), Buffer.from([0])]);
        const header = Buffer.alloc(5);
        header.write('E');
        header.writeInt32BE(body.length + 4, 1);
        socket.end(Buffer.concat([header, body]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, passwords };
}

describe('credentials never reach the log', () => {
  it('a wrong Redis password: the node keeps running and retrying, and no line at any level holds the password', async () => {
    const redis = await startRedis({ password: 'right-redis-pass-71c0' });
    const wrong = 'wrong-redis-pass-5e2a9d';
    const node = spawnGateway({ ...BASE_ENV, REDIS_URL: `redis://:${wrong}@127.0.0.1:${redis.port}/0` });
    const url = await node.listening();
    // Several refused reconnection rounds (ioredis fails every queued adapter command on each one).
    await waitFor(() => node.output().includes('"msg":"redis unavailable; retrying"'), { what: 'the outage line' });
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(node.child.exitCode).toBeNull();
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect(node.output()).not.toContain(wrong);
    expect(node.output()).not.toContain('unhandled rejection');
  });

  it('a wrong PostgreSQL password: the node refuses to start with the reason, and the password appears nowhere', async () => {
    const postgres = await startPasswordRefusingPostgres();
    const wrong = 'wrong-pg-pass-9b41f7';
    const node = spawnGateway({
      ...BASE_ENV, AUTH_SERVICE: 'on', AUTH_PORT: '0', DATABASE_URL: `postgres://switchboard:${wrong}@127.0.0.1:${postgres.port}/auth`,
    });

    expect(await node.exited()).toBe(1);
    expect(postgres.passwords).toEqual([wrong]); // the password really was tried, and refused
    expect(node.output()).toContain('password authentication failed');
    expect(node.output()).not.toContain(wrong);
  });

  it('a WEBHOOK_URL carrying credentials: the node refuses to start, naming the problem but not the password', async () => {
    const wrong = 'webhook-pass-0d7e33';
    const node = spawnGateway({ ...BASE_ENV, WEBHOOK_URL: `http://hooks:${wrong}@127.0.0.1:9/hook` });

    expect(await node.exited()).toBe(1);
    expect(node.output()).toContain('webhook URL');
    expect(node.output()).not.toContain(wrong);
  });

  it('an error that carries a Redis command or a URL password is logged without them', () => {
    const error = Object.assign(new Error('connect to redis://:s3cret-pass@10.0.0.1:6379 failed'), {
      command: { name: 'hello', args: ['3', 'AUTH', 'default', 's3cret-pass'] },
    });
    const logged = JSON.stringify(serializeError(error));
    expect(logged).not.toContain('s3cret-pass');
    expect(logged).toContain('"command":{"name":"hello"}');
    expect(logged).toContain('redis://:[redacted]@10.0.0.1:6379');
  });
});
