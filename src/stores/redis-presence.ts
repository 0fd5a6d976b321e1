import type { Logger } from 'pino';
import { type GatewayNamespace } from '../protocol/socket-types.js';
import { userRoom } from '../protocol/own-rooms.js';
import type { ConnectionInfo, NodeConnections, PresenceReader, PresenceStats, RoomInfo, UserPresence } from './presence.js';
import type { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { countOutNode } from './redis-membership.js';

const UNAVAILABLE = 'Presence is unavailable';

/** How often changed sockets are written to Redis, in one pipeline. */
const FLUSH_MS = 50;

/** One socket as stored in its node's hash: `[userId, sessionId | null, connectedAt, rooms]`. */
type StoredSocket = [string, string | null, number, string[]];

interface PresenceEntry extends ConnectionInfo {
  readonly rooms: readonly string[];
}

/**
 * Cluster-wide presence in Redis. Each node keeps a hash of its own sockets
 * (`{presence}:node:{nodeId}`: socket id → user, session, connected-at, rooms) and beats in a
 * sorted set (`{presence}:nodes`, score = last beat), all in one hash slot (see RedisKeys). Readers only trust nodes that beat within
 * 2× the heartbeat, so a node killed with SIGKILL drops out of every answer within that time; its hash
 * expires after 3× the heartbeat, and its entry in `{presence}:nodes` stays until a surviving node counts out
 * its room members (RedisMembership). Writes follow the namespace's connections and the adapter's
 * `join-room`/`leave-room` events and are batched; after Redis comes back (possibly empty) the node writes all its sockets again.
 *
 * Queries read every live socket entry: fine for the admin API, not meant for per-message use. While Redis
 * is unreachable or failing they fail at once with ENGINE_UNAVAILABLE; the background writes skip and
 * catch up when it is back.
 */
export class RedisPresence implements PresenceReader {
  private readonly keys: RedisKeys;
  private readonly nodesKey: string;
  private readonly dirty = new Set<string>();
  private namespace: GatewayNamespace | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
    private readonly nodeId: string,
    private readonly heartbeatMs: number,
    private readonly logger: Logger,
  ) {
    this.keys = new RedisKeys(prefix);
    this.nodesKey = this.keys.presenceNodes();
  }

  /** Starts following the namespace's rooms and beating. */
  start(namespace: GatewayNamespace): void {
    this.namespace = namespace;
    const roomChanged = (room: string, socketId: string) => {
      if (room !== socketId) this.changed(socketId);
    };
    namespace.adapter.on('join-room', roomChanged);
    namespace.adapter.on('leave-room', roomChanged);
    // A socket can be in rooms before it connects (the handshake puts it in its user room): written once it is.
    namespace.on('connection', (socket) => this.changed(socket.id));
    this.connection.client.on('ready', () => this.resync());
    this.heartbeatTimer = setInterval(() => void this.beat(), this.heartbeatMs).unref();
    if (this.connection.isReady()) this.resync();
  }

  /**
   * Stops beating and removes this node's entries and room member counts (a graceful stop leaves nothing
   * behind; nobody is announced from here).
   */
  async stop(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.flushTimer);
    if (!this.connection.isReady()) return;
    await countOutNode(this.connection, this.keys, this.nodeId);
  }

  async rooms(prefix = '', limit = 1000): Promise<RoomInfo[]> {
    const counts = new Map<string, number>();
    for (const entry of await this.entries()) {
      for (const room of entry.rooms) if (room.startsWith(prefix)) counts.set(room, (counts.get(room) ?? 0) + 1);
    }
    return [...counts].slice(0, limit).map(([room, sockets]) => ({ room, sockets }));
  }

  async roomSize(room: string): Promise<number> {
    return (await this.entries()).filter((entry) => entry.rooms.includes(room)).length;
  }

  async user(userId: string): Promise<UserPresence> {
    const connections = (await this.entries())
      .filter((entry) => entry.userId === userId)
      .map(({ socketId, sessionId, connectedAt, rooms }) => ({ socketId, userId, sessionId, connectedAt, rooms }));
    const sessions = [...new Set(connections.flatMap((c) => (c.sessionId === undefined ? [] : [c.sessionId])))];
    return { userId, connections, sessions };
  }

  async stats(): Promise<PresenceStats> {
    const entries = await this.entries();
    const rooms = new Set(entries.flatMap((entry) => entry.rooms));
    const users = [...rooms].filter((room) => room.startsWith(userRoom(''))).length;
    return { connections: entries.length, users, rooms: rooms.size };
  }

  /** The nodes that beat recently, each with the number of its socket entries (one HLEN per node). */
  async nodes(): Promise<NodeConnections[]> {
    return this.connection.run(UNAVAILABLE, async (client) => {
      const beats = await client.zrangebyscore(this.nodesKey, Date.now() - 2 * this.heartbeatMs, '+inf', 'WITHSCORES');
      const nodes: { nodeId: string; lastBeatAt: number }[] = [];
      for (let i = 0; i + 1 < beats.length; i += 2) nodes.push({ nodeId: beats[i]!, lastBeatAt: Number(beats[i + 1]) });
      const pipeline = client.pipeline();
      for (const { nodeId } of nodes) pipeline.hlen(this.nodeKey(nodeId));
      const replies = (await pipeline.exec()) ?? [];
      return nodes.map((node, index) => {
        const [error, count] = replies[index] ?? [null, 0];
        return { ...node, connections: error === null && typeof count === 'number' ? count : 0 };
      });
    });
  }

  /** Every socket entry of the nodes that beat recently. */
  private async entries(): Promise<PresenceEntry[]> {
    return this.connection.run(UNAVAILABLE, async (client) => {
      const nodes = await client.zrangebyscore(this.nodesKey, Date.now() - 2 * this.heartbeatMs, '+inf');
      const pipeline = client.pipeline();
      for (const node of nodes) pipeline.hgetall(this.nodeKey(node));
      const replies = (await pipeline.exec()) ?? [];
      const entries: PresenceEntry[] = [];
      for (const [error, hash] of replies) {
        if (error !== null || hash === null || typeof hash !== 'object') continue;
        for (const [socketId, raw] of Object.entries(hash as Record<string, string>)) {
          const [userId, sessionId, connectedAt, rooms] = JSON.parse(raw) as StoredSocket;
          entries.push({ socketId, userId, sessionId: sessionId ?? undefined, connectedAt, rooms });
        }
      }
      return entries;
    });
  }

  private changed(socketId: string): void {
    this.dirty.add(socketId);
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private resync(): void {
    for (const socketId of this.namespace?.sockets.keys() ?? []) this.dirty.add(socketId);
    void this.beat();
    void this.flush();
  }

  /** Writes the changed sockets: present ones with their rooms, gone ones deleted. */
  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const namespace = this.namespace;
    if (namespace === undefined || this.dirty.size === 0 || !this.connection.isReady()) return;
    const key = this.nodeKey(this.nodeId);
    const pipeline = this.connection.client.pipeline();
    for (const socketId of this.dirty) {
      const socket = namespace.sockets.get(socketId);
      const rooms = [...(namespace.adapter.sids.get(socketId) ?? [])].filter((room) => room !== socketId);
      if (socket === undefined || rooms.length === 0) {
        pipeline.hdel(key, socketId);
      } else {
        const { userId, sessionId, connectedAt } = socket.data;
        pipeline.hset(key, socketId, JSON.stringify([userId, sessionId ?? null, connectedAt, rooms] satisfies StoredSocket));
      }
    }
    this.dirty.clear();
    pipeline.pexpire(key, 3 * this.heartbeatMs);
    try {
      await pipeline.exec();
    } catch (error) {
      this.logger.warn({ err: error }, 'presence write failed; will resync when Redis is back');
    }
  }

  /**
   * Marks this node alive and keeps its hash from expiring. A hash that is gone while the node has sockets
   * (it expired while the beats failed, e.g. its cluster slot had no master for a while, without the
   * connection being lost) is written again.
   */
  private async beat(): Promise<void> {
    if (!this.connection.isReady()) return;
    try {
      const replies = await this.connection.client.pipeline().zadd(this.nodesKey, Date.now(), this.nodeId).pexpire(this.nodeKey(this.nodeId), 3 * this.heartbeatMs).exec();
      const [error, kept] = replies?.[1] ?? [null, 1];
      if (error === null && kept === 0 && (this.namespace?.sockets.size ?? 0) > 0) {
        for (const socketId of this.namespace?.sockets.keys() ?? []) this.dirty.add(socketId);
        await this.flush();
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'presence heartbeat failed');
    }
  }

  private nodeKey(nodeId: string): string {
    return this.keys.presenceNode(nodeId);
  }
}
