import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { api, connectAs, flush, nextEvent, recordEvents, untilReady } from './support/gateway.js';
import { startReceiver } from './support/http-receiver.js';
import { CLUSTER_ENV, CLUSTER_HEARTBEAT_MS, spawnGateway } from './support/process.js';
import { startProxy } from './support/proxy.js';
import { startRedis } from './support/redis.js';
import { unique } from './support/temp.js';
import { sleep, waitFor } from './support/wait.js';

/**
 * A node killed with SIGKILL announces nothing itself: one surviving node counts its room members out
 * once they had the recovery window to come back elsewhere, and announces those not back — with the
 * socket event and the webhooks a leave sends, once cluster-wide however many nodes survive.
 */
const RECOVERY_WINDOW_MS = 3000;
const CLAIM_LOG = 'counted out the room members of a node that stopped beating';
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 } as const;

describe('the users of a SIGKILLed node', () => {
  it('go offline once, from one surviving node, when not back elsewhere within the recovery window', async () => {
    const redis = await startRedis();
    const receiver = await startReceiver();
    const env = {
      ...CLUSTER_ENV, REDIS_URL: redis.url, REDIS_DATA_PREFIX: `${unique('sbdead')}:`, PUBLIC_ROOMS: '*',
      RECOVERY_WINDOW_MS: String(RECOVERY_WINDOW_MS), WEBHOOK_URL: `${receiver.url}/hooks`, WEBHOOK_SECRET: 'webhook-secret-for-tests',
    };
    const nodes = [spawnGateway(env), spawnGateway(env), spawnGateway(env)];
    const [a, b, c] = await Promise.all(nodes.map(async (node) => {
      const url = await node.listening();
      await untilReady(url, 10_000);
      return url;
    })) as [string, string, string];
    const proxy = await startProxy(a); // the load balancer, sending Yan to node A for now

    const [room, shift] = [unique('standup'), unique('shift')];
    const [uma, vic, wes, yan] = [unique('uma'), unique('vic'), unique('wes'), unique('yan')];
    const watcher = await connectAs(b, vic, unique('s')); // watches the room from node B
    await join(watcher, room);
    const uOnA = await connectAs(a, uma, unique('s')); // only on node A
    const wOnA = await connectAs(a, wes, unique('s'));
    const wOnB = await connectAs(b, wes, unique('s')); // on both nodes
    const yThroughProxy = await connectAs(proxy.url, yan, unique('s'), RECONNECT); // moves to B when A dies
    for (const socket of [uOnA, wOnA, wOnB, yThroughProxy]) await join(socket, room);
    await join(uOnA, shift); // a room only node A's users are in
    // Vic, Uma, Wes (once for two sockets) and Yan in the room, Uma in the shift; both rooms occupied.
    const arrivals = () => receiver.received.map((r) => (r.json as Hook).event).sort();
    await waitFor(() => expect(arrivals()).toEqual([...Array<string>(5).fill('member.added'), 'room.occupied', 'room.occupied']), { what: 'the join webhooks' });
    const seen = recordEvents(watcher);
    const hooksBefore = receiver.received.length;
    // Crash recovery saves each socket's rooms every RECOVERY_WINDOW_MS / 2: let it save Yan's room.
    await sleep(RECOVERY_WINDOW_MS / 2 + 500);

    proxy.pointTo(b);
    nodes[0]!.child.kill('SIGKILL');
    await nodes[0]!.exited();
    const killedAt = Date.now();

    // Yan comes back to node B within the window, recovered, rooms and all.
    await waitFor(() => yThroughProxy.connected && yThroughProxy.recovered, { what: 'Yan recovered on node B' });
    const [gone] = await nextEvent<[{ room: string; userId: string }]>(watcher, 'room/user-disconnected', RECOVERY_WINDOW_MS + 10_000);
    const goneAt = Date.now();
    expect(gone).toEqual({ room, userId: uma });
    expect(goneAt - killedAt).toBeGreaterThanOrEqual(RECOVERY_WINDOW_MS); // not before the window passed

    const hooks = () => receiver.received.slice(hooksBefore).map((r) => r.json as Hook).map(({ event, room: hookRoom, userId }) => ({ event, room: hookRoom, userId }));
    await waitFor(() => expect(hooks()).toHaveLength(3), { what: 'the departure webhooks' });
    await sleep(6 * CLUSTER_HEARTBEAT_MS); // time for another node to announce them again, were it to
    await flush(c, watcher);

    expect(seen.filter((e) => e.event.startsWith('room/user-')).map((e) => [e.event, e.args[0]])).toEqual([
      ['room/user-disconnected', { room, userId: uma }],
    ]);
    expect(hooks()).toEqual(expect.arrayContaining([
      { event: 'member.removed', room, userId: uma },
      { event: 'member.removed', room: shift, userId: uma },
      { event: 'room.vacated', room: shift, userId: undefined },
    ]));
    expect(hooks()).toHaveLength(3);
    const claims = [nodes[1]!, nodes[2]!].map((node) => node.output().split(CLAIM_LOG).length - 1);
    expect(claims.sort()).toEqual([0, 1]);

    const members = (await api<{ members: { userId: string }[] }>(c, `/v1/rooms/${room}/presence`)).body.members.map((m) => m.userId);
    expect(members.sort()).toEqual([vic, wes, yan].sort());
    expect((await api(c, `/v1/rooms/${shift}/presence`)).body).toEqual({ room: shift, members: [] });
    expect(watcher.connected && wOnB.connected && yThroughProxy.connected).toBe(true);
  }, 60_000);
});

async function join(socket: Socket, room: string): Promise<void> {
  expect(await socket.emitWithAck('room/join-room', room)).toMatchObject({ ok: true, status: true, room });
}

interface Hook {
  readonly event: string;
  readonly room: string;
  readonly userId?: string;
}
