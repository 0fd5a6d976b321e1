/** An Engine.IO connection as far as this count needs it. */
interface Connection {
  readonly readyState: string;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Counts each user's connections to `/` on this node (MAX_CONNECTIONS_PER_USER; not cluster-wide). A
 * connection counts from the moment the handshake admits it — before Socket.IO accepts the socket, so a
 * burst of simultaneous handshakes cannot all pass the check — until its Engine.IO connection closes.
 */
export class UserConnections {
  private readonly byUser = new Map<string, number>();

  /** @param max - connections one user may hold; 0 = no cap. */
  constructor(private readonly max: number) {}

  /** Counts `connection` in for `userId`, or answers false when the user holds `max` already. */
  admit(userId: string, connection: Connection): boolean {
    if (this.max === 0) return true;
    if ((this.byUser.get(userId) ?? 0) >= this.max) return false;
    this.track(userId, connection);
    return true;
  }

  /** Counts `connection` in without the cap (a socket restored by connection-state recovery skipped the handshake). */
  track(userId: string, connection: Connection): void {
    if (this.max === 0 || connection.readyState !== 'open') return;
    this.byUser.set(userId, (this.byUser.get(userId) ?? 0) + 1);
    connection.once('close', () => {
      const held = (this.byUser.get(userId) ?? 1) - 1;
      if (held > 0) this.byUser.set(userId, held);
      else this.byUser.delete(userId);
    });
  }

  /** Connections `userId` holds on this node. */
  count(userId: string): number {
    return this.byUser.get(userId) ?? 0;
  }
}
