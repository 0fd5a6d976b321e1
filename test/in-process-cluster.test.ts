import { describe, expect, it } from 'vitest';
import { api, connectAs, expectConnectError, flush, nextEvent, recordEvents, signToken } from './support/gateway.js';
import {
  expectOrderedDelivery, expectRecovery, expectTargetedDelivery, getUser, publish, roomSize, sessionEvents, stats, type ConnectionView,
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
    const [a, b, c] = urls as [string, string, string];
    const [alice, bob] = [unique('alice'), unique('bob')];
    const [sa1, sa2, sb] = [unique('s'), unique('s'), unique('s')];
    const aliceA = await connectAs(a, alice, sa1);
    const aliceB = await connectAs(b, alice, sa2);
    const aliceC = await connectAs(c, alice, sa2);
    const bobC = await connectAs(c, bob, sb);

    for (const url of urls) {
      expect((await api<{ node: { engine: string } }>(url, '/v1/stats')).body.node.engine).toBe('in-process');
      const user = await getUser(url, alice);
      expect(user.online).toBe(true);
      expect(byId(user.connections)).toEqual(byId([
        { socketId: aliceA.id!, userId: alice, sessionId: sa1, connectedAt: expect.any(Number) as number },
        { socketId: aliceB.id!, userId: alice, sessionId: sa2, connectedAt: expect.any(Number) as number },
        { socketId: aliceC.id!, userId: alice, sessionId: sa2, connectedAt: expect.any(Number) as number },
      ]));
      expect([...user.sessions].sort()).toEqual([sa1, sa2].sort());
      expect(await roomSize(url, `user:${alice}`)).toBe(3);
      expect(await roomSize(url, `session:${sa2}`)).toBe(2);
      expect(await roomSize(url, `user:${bob}`)).toBe(1);
      // user:alice, user:bob, session:sa1, session:sa2, session:sb
      expect(await stats(url)).toEqual({ connections: 4, users: 2, rooms: 5 });
    }

    // A disconnect on one node is seen from every node.
    aliceB.close();
    bobC.close();
    for (const url of urls) {
      await waitFor(async () => {
        expect((await getUser(url, alice)).connections.map((x) => x.socketId).sort()).toEqual([aliceA.id, aliceC.id].sort());
        expect(await roomSize(url, `user:${alice}`)).toBe(2);
        expect(await roomSize(url, `session:${sa2}`)).toBe(1);
        expect(await getUser(url, bob)).toMatchObject({ userId: bob, online: false, connections: [], sessions: [] });
        expect(await roomSize(url, `user:${bob}`)).toBe(0);
        expect(await stats(url)).toEqual({ connections: 2, users: 1, rooms: 3 });
      });
    }
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
    const { urls } = await startCluster(3);
    const [a, b, c] = urls as [string, string, string];
    const dan = unique('dan');
    const [keep, s2, s3] = [unique('keep'), unique('s'), unique('s')];
    const kept = await connectAs(a, dan, keep);
    const losers = [await connectAs(b, dan, s2), await connectAs(c, dan, s3), await connectAs(a, dan, s3)];
    const keptEvents = recordEvents(kept);
    const logs = losers.map((socket) => sessionEvents(socket));

    const response = await api(b, '/internal/force-logout', { body: { userId: dan, sessionId: keep } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true, disconnected: 3 });
    for (const log of logs) await waitFor(() => expect(log).toEqual(['auth:logout:force-logout', 'disconnect:io server disconnect']));

    // The active session is shared: a logged-out session is refused on any node.
    const refusal = await expectConnectError(c, { auth: { token: await signToken({ user_id: dan, session_id: s2 }) } });
    expect(refusal.data?.code).toBe('SESSION_REVOKED');
    for (const url of urls) {
      const user = await getUser(url, dan);
      expect(user.sessions).toEqual([keep]);
      expect(user.activeSession).toBe(keep);
      expect(user.connections.map((x) => x.socketId)).toEqual([kept.id]);
    }
    await flush(c, kept);
    expect(kept.connected).toBe(true);
    expect(keptEvents.map((e) => e.event).filter((event) => event !== 'test:marker')).toEqual([]);
  });

  it('POST /v1/users/{id}/disconnect on one node disconnects the user on every node', async () => {
    const { urls } = await startCluster(3);
    const [a, b, c] = urls as [string, string, string];
    const [erin, frank] = [unique('erin'), unique('frank')];
    const [sa, sb] = [unique('s'), unique('s')];
    const erinA = await connectAs(a, erin, sa);
    const erinB = await connectAs(b, erin, sb);
    const erinC = await connectAs(c, erin, sb);
    const frankB = await connectAs(b, frank, unique('s'));

    const oneSession = [erinB, erinC].map((socket) => nextEvent<[string]>(socket, 'disconnect'));
    const first = await api(a, `/v1/users/${erin}/disconnect`, { body: { sessionId: sb } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ disconnected: 2 });
    expect((await Promise.all(oneSession)).map(([reason]) => reason)).toEqual(['io server disconnect', 'io server disconnect']);
    await flush(b, erinA); // the other session is still connected and served

    const rest = nextEvent<[string]>(erinA, 'disconnect');
    const second = await api(c, `/v1/users/${erin}/disconnect`, { method: 'POST' });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ disconnected: 1 });
    expect((await rest)[0]).toBe('io server disconnect');
    for (const url of urls) await waitFor(async () => expect(await getUser(url, erin)).toMatchObject({ online: false, connections: [] }));
    await flush(c, frankB);
    expect(frankB.connected).toBe(true);
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

function byId(connections: ConnectionView[]): ConnectionView[] {
  return [...connections].sort((x, y) => x.socketId.localeCompare(y.socketId));
}

function presenceEvents(events: { event: string; args: unknown[] }[]): unknown[][] {
  return events.filter((e) => e.event.startsWith('room/user-')).map((e) => [e.event, e.args[0]]);
}
