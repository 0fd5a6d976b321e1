import { describe, expect, it } from 'vitest';
import { api, connectAs, nextEvent, startGateway } from './support/gateway.js';
import { startRedis } from './support/redis.js';
import { sleep } from './support/wait.js';

describe.each(['pubsub', 'sharded'])('REDIS_ADAPTER=%s', (adapter) => {
  it('fans out across nodes with this adapter too', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_ADAPTER: adapter, REDIS_DATA_PREFIX: `${adapter}-test:` };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    const socket = await connectAs(a.url, 'kim', 's1');
    const received = nextEvent(socket, 'note');
    await sleep(100); // the subscriber of node a is up before b publishes
    expect((await api(b.url, '/v1/publish', { body: { event: 'note', data: 'across', users: ['kim'] } })).status).toBe(200);
    expect((await received)[0]).toBe('across');
  });
});
