import { describe, expect, it } from 'vitest';
import { OFFSET, UUID, api, connectAs, flush, recordEvents, startGateway } from './support/gateway.js';

type ItemResult = { id: string } | { error: { code: string; message: string; details?: Record<string, unknown> } };
type BatchAnswer = { results: ItemResult[]; error?: { code: string; message: string; details?: Record<string, unknown> } };

const batch = (url: string, body: unknown) => api<BatchAnswer>(url, '/v1/batch', { body });

const toAlice = (event: string, data?: unknown) => ({ event, data, users: ['alice'] });

describe('POST /v1/batch', () => {
  it('publishes every item in order and answers one { id } per item', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 's1');
    const seen = recordEvents(alice);
    const response = await batch(url, [toAlice('step:1', 1), toAlice('step:2', 2), toAlice('step:3', 3)]);
    expect(response.status).toBe(200);
    expect(response.body.results).toHaveLength(3);
    const ids = response.body.results.map((result) => (result as { id: string }).id);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(3);
    await flush(url, alice);
    expect(seen).toEqual([
      { event: 'step:1', args: [1, { id: ids[0], history: { 'user:alice': { epoch: expect.any(String), offset: 1 } } }, OFFSET] },
      { event: 'step:2', args: [2, { id: ids[1], history: { 'user:alice': { epoch: expect.any(String), offset: 2 } } }, OFFSET] },
      { event: 'step:3', args: [3, { id: ids[2], history: { 'user:alice': { epoch: expect.any(String), offset: 3 } } }, OFFSET] },
      { event: 'test:marker', args: [null, expect.objectContaining({ id: expect.stringMatching(UUID) }), OFFSET] },
    ]);
  });

  it('answers a bad item with its own error and still delivers the others', async () => {
    const { url } = await startGateway();
    const alice = await connectAs(url, 'alice', 's1');
    const seen = recordEvents(alice);
    const response = await batch(url, [
      toAlice('ok:first'),
      { event: 'no:target', data: 1 },
      toAlice('connect'),
      { users: ['alice'] },
      { event: 'bad:shape', users: 'alice' },
      { ...toAlice('unknown:field'), extra: true },
      toAlice('ok:last'),
    ]);
    expect(response.status).toBe(200);
    const [first, noTarget, reserved, noEvent, badShape, unknownField, last] = response.body.results;
    expect(first).toMatchObject({ id: expect.stringMatching(UUID), offset: 1 });
    expect(noTarget).toEqual({ error: expect.objectContaining({ code: 'NO_TARGET', message: expect.any(String) }) });
    expect(reserved).toEqual({ error: expect.objectContaining({ code: 'EVENT_RESERVED', message: expect.any(String) }) });
    for (const [result, field] of [[noEvent, '[3].event'], [badShape, '[4].users'], [unknownField, '[5].extra']] as const) {
      expect(result).toEqual({ error: expect.objectContaining({ code: 'INVALID_BODY', message: expect.stringContaining(field), details: { field } }) });
    }
    expect(last).toMatchObject({ id: expect.stringMatching(UUID), offset: 2 });
    expect(response.body.results).toHaveLength(7);
    await flush(url, alice);
    expect(seen.map((e) => e.event)).toEqual(['ok:first', 'ok:last', 'test:marker']);
    expect(seen[0]?.args[1]).toMatchObject({ id: (first as { id: string }).id });
    expect(seen[1]?.args[1]).toMatchObject({ id: (last as { id: string }).id });
  });

  it('names a non-object item by its index', async () => {
    const { url } = await startGateway();
    const response = await batch(url, [null, toAlice('fine')]);
    expect(response.body.results[0]).toEqual({ error: expect.objectContaining({ code: 'INVALID_BODY', details: { field: '[0]' } }) });
    expect(response.body.results[1]).toMatchObject({ id: expect.stringMatching(UUID) });
  });

  it('answers a too-deep item with its own error', async () => {
    const { url } = await startGateway();
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const response = await batch(url, `[${JSON.stringify(toAlice('fine'))},{"event":"deep","users":["alice"],"data":${deep}}]`);
    expect(response.status).toBe(200);
    expect(response.body.results[1]).toEqual({ error: expect.objectContaining({ code: 'INVALID_BODY', details: { field: 'data' } }) });
  });

  it('accepts exactly MAX_BATCH_SIZE items', async () => {
    const { url } = await startGateway({ MAX_BATCH_SIZE: '3' });
    const alice = await connectAs(url, 'alice', 's1');
    const seen = recordEvents(alice);
    const response = await batch(url, [toAlice('a'), toAlice('b'), toAlice('c')]);
    expect(response.status).toBe(200);
    expect(response.body.results).toHaveLength(3);
    await flush(url, alice);
    expect(seen.map((e) => e.event)).toEqual(['a', 'b', 'c', 'test:marker']);
  });

  it('refuses more than MAX_BATCH_SIZE items with 400 BATCH_TOO_LARGE and delivers none', async () => {
    const { url } = await startGateway({ MAX_BATCH_SIZE: '3' });
    const alice = await connectAs(url, 'alice', 's1');
    const seen = recordEvents(alice);
    const response = await batch(url, [toAlice('a'), toAlice('b'), toAlice('c'), toAlice('d')]);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'BATCH_TOO_LARGE', message: expect.any(String) });
    expect(response.body.results).toBeUndefined();
    await flush(url, alice);
    expect(seen.map((e) => e.event)).toEqual(['test:marker']);
  });

  it.each([
    ['an object', { event: 'note', users: ['alice'] }],
    ['a string', 'batch'],
    ['null', null],
  ])('refuses a body that is %s with 400 INVALID_BODY', async (_label, body) => {
    const { url } = await startGateway();
    const response = await batch(url, JSON.stringify(body));
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_BODY', message: expect.any(String) });
  });

  it('answers an empty batch with no results', async () => {
    const { url } = await startGateway();
    const response = await batch(url, []);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ results: [] });
  });
});
