import type { ClusterMessage, ClusterResponse, Offset, PrivateSessionId, ServerId, Session } from 'socket.io-adapter';

/** What Socket.IO persists of a socket that dropped, for connection-state recovery. */
export type PersistedSession = Omit<Session, 'missedPackets'>;

/** One node's adapter for one namespace, as the bus reaches it. */
export interface BusMember {
  readonly memberId: ServerId;
  onMessage(message: ClusterMessage, offset?: Offset): void;
  onResponse(response: ClusterResponse): void;
}

/** A broadcast kept for connection-state recovery. */
export interface KeptBroadcast {
  readonly offset: Offset;
  readonly message: ClusterMessage;
  readonly expiresAt: number;
}

interface KeptSession {
  readonly session: PersistedSession;
  readonly expiresAt: number;
}

/**
 * The network of an in-process cluster (`InProcessCluster`): carries socket.io-adapter's cluster
 * messages between the adapters of the nodes in this process, as the Redis stream and channels carry them
 * between processes.
 *
 * Each receiver gets its own structured clone of a message on a later turn of the event loop
 * (`setImmediate`), never the sender's object and never within the sender's call, so nodes cannot share
 * state through it and the adapters meet the same asynchrony as over a network. Messages reach every
 * receiver in the order they were published (one FIFO queue).
 *
 * For connection-state recovery it keeps, like the Streams adapter's stream and session keys, the
 * recoverable broadcasts of each namespace with their offsets and the sessions of dropped sockets, each
 * for the publishing node's recovery window (so memory grows with publish rate × window, as on the
 * memory engine). Both are trimmed as new entries come (no timer). Offsets are one counter for the bus.
 */
export class InProcessBus {
  private readonly members = new Map<string, Map<ServerId, BusMember>>();
  private readonly kept = new Map<string, KeptBroadcast[]>();
  private readonly sessions = new Map<PrivateSessionId, KeptSession>();
  private lastOffset = 0;

  join(namespace: string, member: BusMember): void {
    let members = this.members.get(namespace);
    if (members === undefined) this.members.set(namespace, (members = new Map()));
    members.set(member.memberId, member);
  }

  leave(namespace: string, member: BusMember): void {
    const members = this.members.get(namespace);
    members?.delete(member.memberId);
    if (members?.size === 0) this.members.delete(namespace);
  }

  /**
   * Sends `message` to every other member of its namespace and answers its offset. With `keepForMs` > 0
   * the message is also kept that long for {@link broadcastsAfter}.
   */
  publish(message: ClusterMessage, keepForMs: number): Offset {
    const offset = String((this.lastOffset += 1));
    const now = Date.now();
    if (keepForMs > 0) {
      let kept = this.kept.get(message.nsp);
      if (kept === undefined) this.kept.set(message.nsp, (kept = []));
      while (kept.length > 0 && kept[0]!.expiresAt <= now) kept.shift();
      kept.push({ offset, message: structuredClone(message), expiresAt: now + keepForMs });
    }
    for (const member of this.members.get(message.nsp)?.values() ?? []) {
      if (member.memberId === message.uid) continue;
      const copy = structuredClone(message);
      setImmediate(() => member.onMessage(copy, offset));
    }
    return offset;
  }

  /** Sends `response` to the member that asked (`requester`), if it is still there. */
  respond(requester: ServerId, response: ClusterResponse): void {
    const member = this.members.get(response.nsp)?.get(requester);
    if (member === undefined) return;
    const copy = structuredClone(response);
    setImmediate(() => member.onResponse(copy));
  }

  /** Keeps a dropped socket's session for `ttlMs`. */
  keepSession(session: PersistedSession, ttlMs: number): void {
    const now = Date.now();
    for (const [pid, kept] of this.sessions) {
      if (kept.expiresAt > now) break;
      this.sessions.delete(pid);
    }
    this.sessions.delete(session.pid);
    this.sessions.set(session.pid, { session: structuredClone(session), expiresAt: now + ttlMs });
  }

  /** Removes and answers a kept session; `undefined` when there is none (never kept, taken, or expired). */
  takeSession(pid: PrivateSessionId): PersistedSession | undefined {
    const kept = this.sessions.get(pid);
    this.sessions.delete(pid);
    return kept !== undefined && kept.expiresAt > Date.now() ? kept.session : undefined;
  }

  /**
   * The kept broadcasts of `namespace` published after the one at `offset` (copies), oldest first;
   * `undefined` when that one is no longer kept (too old, or never was): the gap cannot be filled.
   */
  broadcastsAfter(namespace: string, offset: Offset): KeptBroadcast[] | undefined {
    const kept = this.kept.get(namespace) ?? [];
    const index = kept.findIndex((entry) => entry.offset === offset);
    if (index === -1 || kept[index]!.expiresAt <= Date.now()) return undefined;
    return kept.slice(index + 1).map((entry) => ({ ...entry, message: structuredClone(entry.message) }));
  }
}
