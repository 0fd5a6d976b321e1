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

/** One of a user's connections, with the rooms it is in (its own `user:`/`session:`/`role:` rooms included, not its id). */
export interface UserConnection extends ConnectionInfo {
  readonly rooms: readonly string[];
}

export interface UserPresence {
  readonly userId: string;
  readonly connections: readonly UserConnection[];
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

/** One live node of a cluster and the sockets it holds in `/`. */
export interface NodeConnections {
  readonly nodeId: string;
  readonly connections: number;
  /** Unix milliseconds of its latest heartbeat. */
  readonly lastBeatAt: number;
}

/** Read-only presence queries; the answers cover every node the engine spans. */
export interface PresenceReader {
  rooms(prefix?: string, limit?: number): Promise<RoomInfo[]>;
  roomSize(room: string): Promise<number>;
  user(userId: string): Promise<UserPresence>;
  stats(): Promise<PresenceStats>;
  /** The live nodes and their connection counts; absent where presence is one node's own (the memory engine). */
  nodes?(): Promise<NodeConnections[]>;
}
