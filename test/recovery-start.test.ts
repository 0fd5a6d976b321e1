import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { deliveries, dropClient, publish, reconnectClient } from './support/cluster-checks.js';
import { flush, openClient, signToken, startGateway } from './support/gateway.js';
import { startProxy } from './support/proxy.js';
import { startRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { waitFor } from './support/wait.js';

/** Every event the socket receives from now on, the gateway's `switchboard:ready` included. */
function allEvents(socket: Socket): { event: string; args: unknown[] }[] {
  const seen: { event: string; args: unknown[] }[] = [];
  socket.onAny((event: string, ...args: unknown[]) => seen.push({ event, args }));
  return seen;
}

/**
 * Issue #11, item 11: a stock client that has received nothing yet must still get, on reconnecting, what was
 * published while it was away. Socket.IO's client asks for recovery only with the offset of the last broadcast
 * it received; every new socket's first event, `switchboard:ready`, gives it one.
 */
async function expectRecoveryWithoutAnyMessage(url: string): Promise<void> {
  const proxy = await startProxy(url);
  const user = unique('nadia');
  const socket: Socket = openClient(proxy.url, {
    auth: { token: await signToken({ user_id: user, session_id: unique('s') }) },
    transports: ['websocket'],
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
  });
  const seen = allEvents(socket);
  const got = deliveries(socket, 'news');
  // The socket's only event so far: the ready event, whose only argument is a recovery offset.
  await waitFor(() => expect(seen).toEqual([{ event: 'switchboard:ready', args: [expect.any(String)] }]));
  expect(socket.recovered).toBe(false);

  await dropClient(proxy, socket);
  const id = await publish(url, { event: 'news', data: 'while away', users: [user] });
  await reconnectClient(proxy, socket, url);
  expect(socket.recovered).toBe(true);

  await flush(url, socket);
  expect(got.map((d) => [d.data, d.meta?.id])).toEqual([['while away', id]]);
  // A recovered socket holds an offset already: no second ready event.
  expect(seen.filter((e) => e.event === 'switchboard:ready')).toHaveLength(1);
  socket.close();
}

describe('recovery for a socket that has received nothing yet', () => {
  it('memory engine: the message published while it was away arrives once, and socket.recovered is true', async () => {
    const { url } = await startGateway();
    await expectRecoveryWithoutAnyMessage(url);
  });

  it('Redis engine (streams): the same', async () => {
    const redis = await startRedis();
    const { url } = await startGateway({ REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbtest')}:` });
    await expectRecoveryWithoutAnyMessage(url);
  });

  it('with recovery off, no ready event is sent', async () => {
    const { url } = await startGateway({ RECOVERY_WINDOW_MS: '0' });
    const socket = openClient(url, { auth: { token: await signToken({ user_id: unique('o'), session_id: unique('s') }) }, transports: ['websocket'] });
    const seen = allEvents(socket);
    await waitFor(() => expect(socket.connected).toBe(true));
    await flush(url, socket);
    expect(seen.map((e) => e.event)).toEqual(['test:marker']);
    socket.close();
  });
});
