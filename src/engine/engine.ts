import type { ServerOptions } from 'socket.io';
import type { LoginThrottle, ThrottleLimits } from '../stores/login-throttle.js';
import type { ClientRegistry } from '../stores/client-registry.js';
import type { GatewayNamespace } from '../protocol/socket-types.js';

/** What the gateway knows about one connected socket (kept in `socket.data`). */
export interface ConnectionInfo {
  readonly socketId: string;
  readonly userId: string;
  readonly sessionId: string | undefined;
  /** Unix milliseconds. */
  readonly connectedAt: number;
}

export interface RoomInfo {
  readonly room: string;
  readonly sockets: number;
}

export interface UserPresence {
  readonly userId: string;
  readonly connections: readonly ConnectionInfo[];
  /** Distinct session ids among the connections. */
  readonly sessions: readonly string[];
}

/** One member of a room: a user and how many of their sockets are in it (three tabs are one member). */
export interface RoomMember {
  readonly userId: string;
  readonly connections: number;
}

export interface PresenceStats {
  readonly connections: number;
  readonly users: number;
  readonly rooms: number;
}

/**
 * Where the active session of each user is kept (SESSION_POLICY `api` and `latest`).
 * Implementations must make {@link SessionStore.claimSession} atomic across nodes.
 */
export interface SessionStore {
  activeSession(userId: string): Promise<string | undefined>;
  setActiveSession(userId: string, sessionId: string): Promise<void>;
  /** Makes `sessionId` the active session and returns the one it replaced, in one atomic step. */
  claimSession(userId: string, sessionId: string): Promise<string | undefined>;
}

/** Read-only presence queries; the answers cover every node the engine spans. */
export interface PresenceReader {
  rooms(prefix?: string, limit?: number): Promise<RoomInfo[]>;
  roomSize(room: string): Promise<number>;
  roomMembers(room: string): Promise<RoomMember[]>;
  user(userId: string): Promise<UserPresence>;
  stats(): Promise<PresenceStats>;
}

/** One published message as room history keeps it. */
export interface HistoryMessage {
  readonly offset: number;
  readonly id: string;
  readonly event: string;
  readonly data: unknown;
  /** Unix milliseconds of the publish. */
  readonly ts: number;
}

/** Where a message landed in one room's history. */
export interface HistoryPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** What a history read answers. `recovered: false` means a gap that cannot be filled: resync from the source. */
export interface HistoryPage {
  readonly room: string;
  /** The room's current epoch; `null` when the room has no history (never published, or expired). */
  readonly epoch: string | null;
  /** The room's latest offset (0 when it has none). */
  readonly offset: number;
  readonly recovered: boolean;
  readonly messages: readonly HistoryMessage[];
}

/**
 * Room history: the last N messages of each room, each with an offset that grows by one per message
 * within an epoch. A new epoch starts when a room's history was lost (expired, or a store restarted
 * empty), so offsets of different epochs never compare.
 */
export interface HistoryStore {
  /** Appends one message to each room, atomically per room, and answers its position in each. */
  append(rooms: readonly string[], message: Omit<HistoryMessage, 'offset'>): Promise<Record<string, HistoryPosition>>;
  /**
   * The messages after `since` in `room`. Not recovered when `epoch` is not the room's current one, or
   * messages after `since` were already trimmed or expired.
   */
  read(room: string, since: number | undefined, epoch: string | undefined): Promise<HistoryPage>;
}

/** What a join or leave changed, cluster-wide: drives presence events and webhooks. */
export interface MembershipChange {
  /** The user's first socket in the room joined (join), or their last one left (leave). */
  readonly userChanged: boolean;
  /** The room went from empty to one socket (join), or from one socket to empty (leave). */
  readonly roomChanged: boolean;
}

/**
 * Counts, per room, each user's sockets across every node, so that presence events fire once per user
 * (a user with three tabs is one member) and room occupied/vacated once per room. Only rooms sockets
 * joined themselves are counted, not their own `user:`/`session:` rooms.
 */
export interface MembershipStore {
  joined(room: string, userId: string): Promise<MembershipChange>;
  left(room: string, userId: string): Promise<MembershipChange>;
  /** The room's members with their socket counts (cheap: reads the counts, not every socket). */
  members(room: string): Promise<RoomMember[]>;
}

/** A Socket.IO adapter class, as `new Server({ adapter })` takes it. */
export type AdapterConstructor = NonNullable<ServerOptions['adapter']>;

/**
 * The engine: the seam between one gateway node and everything shared between nodes — fan-out
 * (through a Socket.IO adapter), active sessions, presence and room history. The composition root builds exactly one.
 */
export interface Engine {
  readonly name: string;
  /** The Socket.IO adapter doing cross-node fan-out; `undefined` means Socket.IO's built-in one-node adapter. */
  readonly adapter: AdapterConstructor | undefined;
  readonly sessions: SessionStore;
  readonly presence: PresenceReader;
  readonly membership: MembershipStore;
  /** Seed 000's durable client registry (SQLite under DATA_DIR on the memory engine, Redis on the Redis engine). */
  readonly clients: ClientRegistry;
  /** Room history; `undefined` when HISTORY_SIZE is 0. */
  readonly history: HistoryStore | undefined;
  /** The auth service's failed-login counters, kept where the engine keeps shared state. */
  loginThrottle(limits: ThrottleLimits): LoginThrottle;
  /** Called once the Socket.IO namespace exists, before the node takes traffic. */
  bind(namespace: GatewayNamespace): Promise<void>;
  /** False while the engine cannot serve (e.g. its backing store is unreachable): publishes answer 503. */
  isReady(): boolean;
  close(): Promise<void>;
}
