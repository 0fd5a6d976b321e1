import type { LoginThrottle, ThrottleLimits } from '../stores/login-throttle.js';
import { MemoryLoginThrottle } from '../stores/memory-login-throttle.js';
import { userRoom, type GatewayNamespace } from '../protocol/socket-types.js';
import type {
  ConnectionInfo, Engine, PresenceReader, PresenceStats, RoomInfo, RoomMember, SessionStore, UserPresence,
} from './engine.js';
import { countMembers } from '../stores/count-members.js';
import { MemoryHistory } from '../stores/memory-history.js';
import { MemoryMembership } from '../stores/memory-membership.js';
import type { ClientRegistry } from '../stores/client-registry.js';
import { LazyClientRegistry } from '../stores/lazy-client-registry.js';
import { SqliteClientRegistry } from '../stores/sqlite-client-registry.js';

/**
 * The in-memory engine: the embedded default and the test stand-in. One node only — nothing is shared
 * with other processes, and active sessions are forgotten on restart.
 */
export class MemoryEngine implements Engine {
  readonly name = 'memory';
  readonly adapter = undefined;
  readonly sessions = new MemorySessionStore();
  readonly history: MemoryHistory | undefined;
  readonly membership = new MemoryMembership();
  readonly clients: ClientRegistry;
  private namespace: GatewayNamespace | undefined;
  readonly presence: PresenceReader = new LocalPresenceReader(() => this.requireGatewayNamespace());

  /** `historySize` 0 turns room history off; seed 000's client registry is a SQLite file in `dataDir`. */
  constructor(historySize: number, historyTtlMs: number, dataDir: string) {
    this.history = historySize > 0 ? new MemoryHistory(historySize, historyTtlMs) : undefined;
    this.clients = new LazyClientRegistry(() => new SqliteClientRegistry(dataDir));
  }

  async bind(namespace: GatewayNamespace): Promise<void> {
    this.namespace = namespace;
  }

  isReady(): boolean {
    return true;
  }

  loginThrottle(limits: ThrottleLimits): LoginThrottle {
    return new MemoryLoginThrottle(limits);
  }

  async close(): Promise<void> {
    this.history?.close();
    await this.clients.close();
    this.namespace = undefined;
  }

  private requireGatewayNamespace(): GatewayNamespace {
    if (this.namespace === undefined) throw new Error('MemoryEngine used before bind()');
    return this.namespace;
  }
}

/** Active sessions in a Map: one entry per user that has one. */
export class MemorySessionStore implements SessionStore {
  private readonly active = new Map<string, string>();

  async activeSession(userId: string): Promise<string | undefined> {
    return this.active.get(userId);
  }

  async setActiveSession(userId: string, sessionId: string): Promise<void> {
    this.active.set(userId, sessionId);
  }

  async claimSession(userId: string, sessionId: string): Promise<string | undefined> {
    const previous = this.active.get(userId);
    this.active.set(userId, sessionId);
    return previous;
  }
}

/**
 * Presence read straight from the local Socket.IO adapter's room index, so it costs no memory of its own.
 * Rooms named after a socket id (every socket's private room) are not listed.
 */
export class LocalPresenceReader implements PresenceReader {
  constructor(private readonly namespace: () => GatewayNamespace) {}

  async rooms(prefix = '', limit = 1000): Promise<RoomInfo[]> {
    const { adapter } = this.namespace();
    const out: RoomInfo[] = [];
    for (const [room, members] of adapter.rooms) {
      if (out.length >= limit) break;
      if (adapter.sids.has(room) || !room.startsWith(prefix)) continue;
      out.push({ room, sockets: members.size });
    }
    return out;
  }

  async roomSize(room: string): Promise<number> {
    const { adapter } = this.namespace();
    return adapter.sids.has(room) ? 0 : (adapter.rooms.get(room)?.size ?? 0);
  }

  async roomMembers(room: string): Promise<RoomMember[]> {
    const nsp = this.namespace();
    if (nsp.adapter.sids.has(room)) return [];
    return countMembers([...(nsp.adapter.rooms.get(room) ?? [])].flatMap((id) => {
      const socket = nsp.sockets.get(id);
      return socket === undefined ? [] : [socket.data.userId];
    }));
  }

  async user(userId: string): Promise<UserPresence> {
    const nsp = this.namespace();
    const connections: ConnectionInfo[] = [];
    for (const socketId of nsp.adapter.rooms.get(userRoom(userId)) ?? []) {
      const socket = nsp.sockets.get(socketId);
      if (socket === undefined) continue;
      const { sessionId, connectedAt } = socket.data;
      connections.push({ socketId, userId, sessionId, connectedAt });
    }
    const sessions = [...new Set(connections.flatMap((c) => (c.sessionId === undefined ? [] : [c.sessionId])))];
    return { userId, connections, sessions };
  }

  async stats(): Promise<PresenceStats> {
    const { adapter } = this.namespace();
    let users = 0;
    let rooms = 0;
    for (const room of adapter.rooms.keys()) {
      if (adapter.sids.has(room)) continue;
      rooms += 1;
      if (room.startsWith(userRoom(''))) users += 1;
    }
    return { connections: adapter.sids.size, users, rooms };
  }
}

