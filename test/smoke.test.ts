import { describe, expect, it } from 'vitest';
import { api, connectClient, nextEvent, signToken, startGateway } from './support/gateway.js';

describe('publish to a user', () => {
  it('delivers a published event to the user and answers its id', async () => {
    const { url } = await startGateway();
    const socket = await connectClient(url, await signToken({ user_id: 'alice' }));
    const received = nextEvent(socket, 'order:shipped');
    const response = await api<{ id: string }>(url, '/v1/publish', { body: { event: 'order:shipped', data: { orderId: 7 }, users: ['alice'] } });
    expect(response.status).toBe(200);
    expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const [data, meta] = await received;
    expect(data).toEqual({ orderId: 7 });
    expect(meta).toMatchObject({ id: response.body.id });
  });
});
