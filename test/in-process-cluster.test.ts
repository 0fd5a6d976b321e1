import { describe, expect, it } from 'vitest';
import { api, connectAs, flush, nextEvent, recordEvents } from './support/gateway.js';
import {
  expectClusterPresence, expectDisconnectEverywhere, expectForceLogoutEverywhere, expectOrderedDelivery, expectRecovery,
  expectTargetedDelivery, getUser, publish, sessionEvents, stats,
} from './support/cluster-checks.js';
import { startCluster } from './support/in-process-cluster.js';
import { unique } from './support/temp.js';
import { waitFor } from './support/wait.js';

/**
 * Cross-node behaviour on an in-process cluster: three real gateways in this process (each on its own
 * port, real HTTP, stock clients) sharing an in-process bus and stores instead of Redis. Redis itself,
 * crashes and faults are tested in cluster.test.ts and faults.test.ts.
 */

describe('three gateways as one in-process cluster', () => {
  it('answers GET /v1/users, /v1/rooms/{room} and /v1/stats for the whole cluster from any node', async () => {
    const { urls } = await startCluster(3);
    for (const url of urls) expect((await api<{ node: { engine: string } }>(url, '/v1/stats')).body.node.engine).toBe('in-process');
    await expectClusterPresence(urls);
  });

  it('delivers a publish accepted by any node to every matching socket on every node, once', async () => {
    const { urls } = await startCluster(3);
    await expectTargetedDelivery(urls);
  });

  it('keeps publish order per room on every node (consecutive publishes through one node)', async () => {
    const { urls } = await startCluster(3);
    await expectOrderedDelivery(urls, [urls[1]!]);
  });

  it('keeps publish order per room on every node (consecutive publishes through different nodes)', async () => {
    const { urls } = await startCluster(3);
    await expectOrderedDelivery(urls, urls);
  });

  it('/internal/force-logout on one node logs out the other sessions on every node', async () => {
    await expectForceLogoutEverywhere((await startCluster(3)).urls);
  });

  it('POST /v1/users/{id}/disconnect on one node disconnects the user on every node', async () => {
    await expectDisconnectEverywhere((await startCluster(3)).urls);
  });

  it('announces room presence once per user across nodes, even when two tabs join on two nodes at once', async () => {
    const { urls } = await startCluster(3, { PUBLIC_ROOMS: '*' });
    const [a, b, c] = urls as [string, string, string];
    const watcher = await connectAs(c, 'watcher', 'w1');
    await watcher.emitWithAck('room/join-room', 'ops');
    const seen = recordEvents(watcher);
    const [onA, onB] = [await connectAs(a, 'lea', 'l1'), await connectAs(b, 'lea', 'l2')];
    await Promise.all([onA.emitWithAck('room/join-room', 'ops'), onB.emitWithAck('room/join-room', 'ops')]);
    await onA.emitWithAck('room/leave-room', 'ops');
    await flush(a, watcher);
    expect(presenceEvents(seen)).toEqual([['room/user-connected', { room: 'ops', userId: 'lea' }]]);

    const gone = nextEvent(watcher, 'room/user-disconnected');
    await onB.emitWithAck('room/leave-room', 'ops');
    expect((await gone)[0]).toEqual({ room: 'ops', userId: 'lea' });
    await flush(b, watcher);
    expect(presenceEvents(seen)).toHaveLength(2);
  });

  it('SESSION_POLICY=latest: a login on one node logs out the user\'s older session on another', async () => {
    const { urls } = await startCluster(3, { SESSION_POLICY: 'latest' });
    const [a, b, c] = urls as [string, string, string];
    const user = unique('lars');
    const older = await connectAs(a, user, 'older');
    const olderLog = sessionEvents(older);
    const newer = await connectAs(b, user, 'newer');
    await waitFor(() => expect(olderLog).toEqual(['auth:logout:session-replaced', 'disconnect:io server disconnect']));
    expect(await getUser(c, user)).toMatchObject({ sessions: ['newer'], activeSession: 'newer' });
    await flush(c, newer);
    expect(newer.connected).toBe(true);
  });

  it('recovers a client that drops and reconnects to another node: every missed message once, in order', async () => {
    const { urls } = await startCluster(3);
    const [a, b, c] = urls as [string, string, string];
    await expectRecovery({ from: a, to: b, publishVia: c });
  });

  it('a node that stops leaves the cluster: its users drop out of presence and room members everywhere, the rest go on', async () => {
    const { nodes, urls } = await startCluster(3, { PUBLIC_ROOMS: '*' });
    const [, b, c] = urls as [string, string, string];
    const leaving = await connectAs(urls[0]!, 'lea', 'l1');
    const staying = await connectAs(b, 'max', 'm1');
    for (const socket of [leaving, staying]) await socket.emitWithAck('room/join-room', 'ops');
    const both = [{ userId: 'lea', connections: 1 }, { userId: 'max', connections: 1 }];
    expect((await staying.emitWithAck('room/members', 'ops')).members).toEqual(expect.arrayContaining(both));

    const dropped = nextEvent<[string]>(leaving, 'disconnect');
    await nodes[0]!.close();
    expect((await dropped)[0]).toBe('transport close');
    const onlyMax = [{ userId: 'max', connections: 1 }];
    for (const url of [b, c]) {
      expect(await getUser(url, 'lea')).toMatchObject({ online: false, connections: [] });
      expect((await api(url, '/v1/rooms/ops/presence')).body).toEqual({ room: 'ops', members: onlyMax });
      expect(await stats(url)).toEqual({ connections: 1, users: 1, rooms: 3 }); // user:max, session:m1, ops
    }
    expect(await staying.emitWithAck('room/members', 'ops')).toEqual({ room: 'ops', members: onlyMax });
    const arrival = nextEvent<[unknown]>(staying, 'still:here');
    await publish(c, { event: 'still:here', data: 1, rooms: ['ops'] });
    expect((await arrival)[0]).toBe(1);
  });
});

function presenceEvents(events: { event: string; args: unknown[] }[]): unknown[][] {
  return events.filter((e) => e.event.startsWith('room/user-')).map((e) => [e.event, e.args[0]]);
}
