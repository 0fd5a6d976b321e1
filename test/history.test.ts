import { describe, expect, it } from 'vitest';
import { api, connectAs, expectConnectError, startGateway } from './support/gateway.js';
import { startRedis } from './support/redis.js';
import { sleep } from './support/wait.js';

interface Page {
  room: string;
  epoch: string | null;
  offset: number;
  recovered: boolean;
  messages: { offset: number; id: string; event: string; data: unknown; ts: number }[];
}

async function publishTo(url: string, room: string, data: unknown): Promise<{ id: string; epoch: string; offset: number }> {
  const response = await api<{ id: string; epoch: string; offset: number }>(url, '/v1/publish', { body: { event: 'note', data, rooms: [room] } });
  expect(response.status).toBe(200);
  return response.body;
}

const readHistory = (url: string, room: string, query = '') => api<Page>(url, `/v1/rooms/${room}/history${query}`);

describe('room history', () => {
  it('gives every publish to a room the next offset in one epoch, and answers what came after an offset', async () => {
    const { url } = await startGateway();
    const first = await publishTo(url, 'user:hal', 1);
    const second = await publishTo(url, 'user:hal', 2);
    const third = await publishTo(url, 'user:hal', 3);
    expect([first.offset, second.offset, third.offset]).toEqual([1, 2, 3]);
    expect(new Set([first.epoch, second.epoch, third.epoch]).size).toBe(1);

    const page = await readHistory(url, 'user:hal', `?since=1&epoch=${first.epoch}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ room: 'user:hal', epoch: first.epoch, offset: 3, recovered: true });
    expect(page.body.messages.map((m) => [m.offset, m.id, m.data])).toEqual([[2, second.id, 2], [3, third.id, 3]]);
    expect((await readHistory(url, 'user:hal')).body.messages).toHaveLength(3);
  });

  it('says recovered: false when the gap cannot be filled: trimmed, another epoch, or expired', async () => {
    const { url } = await startGateway({ HISTORY_SIZE: '2', HISTORY_TTL_S: '1' });
    const { epoch } = await publishTo(url, 'room-a', 'a1');
    for (const data of ['a2', 'a3']) await publishTo(url, 'room-a', data);
    const trimmed = await readHistory(url, 'room-a', `?since=0&epoch=${epoch}`);
    expect(trimmed.body).toMatchObject({ recovered: false, offset: 3 });
    expect(trimmed.body.messages.map((m) => m.data)).toEqual(['a2', 'a3']);
    expect((await readHistory(url, 'room-a', `?since=1&epoch=${epoch}`)).body.recovered).toBe(true);
    expect((await readHistory(url, 'room-a', '?since=2&epoch=another-epoch')).body.recovered).toBe(false);

    await sleep(1200);
    const expired = await readHistory(url, 'room-a', `?since=3&epoch=${epoch}`);
    expect(expired.body).toMatchObject({ epoch: null, offset: 0, recovered: false, messages: [] });
    const restarted = await publishTo(url, 'room-a', 'b1');
    expect(restarted.offset).toBe(1);
    expect(restarted.epoch).not.toBe(epoch);
  });

  it('refuses a malformed query, and is 404 when HISTORY_SIZE=0', async () => {
    const { url } = await startGateway();
    expect((await readHistory(url, 'r', '?since=-1')).body).toMatchObject({ error: { code: 'INVALID_QUERY' } });
    const off = await startGateway({ HISTORY_SIZE: '0' });
    const published = await api<Record<string, unknown>>(off.url, '/v1/publish', { body: { event: 'x', rooms: ['r'] } });
    expect(Object.keys(published.body)).toEqual(['id']);
    expect(await readHistory(off.url, 'r')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('history over the socket', () => {
  it('answers a socket for a room it is in, and refuses other rooms with ROOM_FORBIDDEN', async () => {
    const { url } = await startGateway();
    const socket = await connectAs(url, 'ida', 's1');
    const { epoch } = await publishTo(url, 'user:ida', 'hello');
    const page = (await socket.emitWithAck('history', { room: 'user:ida', since: 0, epoch })) as Page;
    expect(page).toMatchObject({ room: 'user:ida', epoch, recovered: true, messages: [{ offset: 1, event: 'note', data: 'hello' }] });
    expect(await socket.emitWithAck('history', { room: 'user:someone-else' })).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
    expect(await socket.emitWithAck('history', { since: 1 })).toMatchObject({ error: { code: 'INVALID_BODY', details: { field: 'room' } } });
    expect(await socket.emitWithAck('history', { room: 'user:ida', since: 'x' })).toMatchObject({ error: { code: 'INVALID_BODY', details: { field: 'since' } } });
  });

  it('refuses a malformed request with the INVALID_BODY an HTTP 400 gives: message and details.field', async () => {
    const { url } = await startGateway();
    const socket = await connectAs(url, 'ida', 's1');
    expect(await socket.emitWithAck('history', { room: 'user:ida', since: -1 }))
      .toEqual({ error: { code: 'INVALID_BODY', message: 'since must be >= 0', details: { field: 'since' } } });
    expect(await socket.emitWithAck('history', { room: 'user:ida', epoch: 5 }))
      .toEqual({ error: { code: 'INVALID_BODY', message: 'epoch must be string', details: { field: 'epoch' } } });
    expect(await socket.emitWithAck('history', 'user:ida'))
      .toEqual({ error: { code: 'INVALID_BODY', message: 'payload must be object', details: { field: 'payload' } } });
  });
});

describe('history on the Redis engine', () => {
  it('is shared by the nodes: offsets continue across nodes and either node answers', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_DATA_PREFIX: 'history-test:' };
    const [a, b] = [await startGateway(env), await startGateway(env)];
    const first = await publishTo(a.url, 'user:jo', 'from a');
    const second = await publishTo(b.url, 'user:jo', 'from b');
    expect([first.offset, second.offset]).toEqual([1, 2]);
    expect(second.epoch).toBe(first.epoch);
    const page = await readHistory(a.url, 'user:jo', `?since=0&epoch=${first.epoch}`);
    expect(page.body).toMatchObject({ recovered: true, offset: 2 });
    expect(page.body.messages.map((m) => m.data)).toEqual(['from a', 'from b']);
    // A refused handshake on the Redis engine still answers with a catalog code.
    expect((await expectConnectError(a.url, { auth: { token: 'nope' } })).data?.code).toBe('TOKEN_INVALID');
  });
});
