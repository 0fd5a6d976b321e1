import { HandshakeRate } from './handshake-rate.js';

export interface FailedHandshakeLimits {
  /** Failed handshakes one Engine.IO connection may have; past it the connection is closed. 0 = no cap. */
  readonly perConnection: number;
  /** Failed handshakes one client address may have per minute (a bucket of that size); 0 = no limit. */
  readonly perAddressPerMinute: number;
}

/** Why a handshake may not be checked: its connection or its address has failed too often. */
export type FailureLimit = 'connection' | 'address';

/** The handshakes of one connection being checked and failed so far, and those waiting for a turn. */
interface ConnectionTally {
  checking: number;
  failed: number;
  readonly waiting: Array<(limit: FailureLimit | undefined) => void>;
}

/**
 * Limits what failed Socket.IO handshakes (a token refused, or the identity provider not answering) can
 * cost, before any token is checked. Each check is a turn: {@link begin} before it, {@link end} after.
 *
 * - Per Engine.IO connection, at most `perConnection` handshakes may be failed or being checked at once:
 *   more wait for a turn (a client opening many namespaces at once is only slowed down), and once
 *   `perConnection` have failed, every later one — waiting or new — is refused unchecked. So one
 *   connection costs at most `perConnection` failed checks, however fast it sends CONNECTs. A stock client
 *   never sends another CONNECT for a namespace after a final refusal.
 * - Per client address, a token bucket of `perAddressPerMinute`, refilled over a minute: each failed
 *   handshake takes a token; while the bucket is empty every handshake of the address is refused
 *   unchecked. Handshakes being checked take nothing, so a burst of good clients behind one address (a
 *   NAT, a load test) is never refused for being many at once; a burst of bad ones costs at most the
 *   handshakes already in flight when the budget ran out (bounded by CONNECTIONS_BURST and the pending
 *   caps). The bucket is {@link HandshakeRate}'s: nothing is kept for an address whose bucket is full, and a
 *   refusal adds nothing. Counted per node.
 */
export class FailedHandshakes {
  private readonly budget: HandshakeRate;
  private readonly tallies = new WeakMap<object, ConnectionTally>();

  constructor(private readonly limits: FailedHandshakeLimits) {
    this.budget = new HandshakeRate({ perSecond: limits.perAddressPerMinute / 60, burst: limits.perAddressPerMinute });
  }

  /**
   * Takes a turn for a check on `connection` from `address`, waiting while the connection has its cap of
   * handshakes failed or being checked. Answers the limit that refuses it, or `undefined`: then it holds a
   * turn, and {@link end} must follow.
   */
  async begin(connection: object, address: string): Promise<FailureLimit | undefined> {
    const refused = await this.connectionTurn(connection);
    if (refused !== undefined) return refused;
    if (this.budget.has(address)) return undefined;
    this.release(connection, false);
    return 'address';
  }

  /** Ends a turn {@link begin} gave: `failed` counts it against the connection and the address. */
  end(connection: object, address: string, failed: boolean): void {
    if (failed) this.budget.admit(address);
    this.release(connection, failed);
  }

  /** Counts a failure of a handshake that held no turn (refused by a later check, after its token passed). */
  fail(connection: object, address: string): void {
    this.budget.admit(address);
    if (this.limits.perConnection === 0) return;
    const tally = this.tallyOf(connection);
    tally.failed += 1;
    this.wake(connection, tally);
  }

  private connectionTurn(connection: object): Promise<FailureLimit | undefined> | undefined {
    const cap = this.limits.perConnection;
    if (cap === 0) return undefined;
    const tally = this.tallyOf(connection);
    if (tally.failed >= cap) return Promise.resolve('connection');
    if (tally.checking + tally.failed < cap) {
      tally.checking += 1;
      return undefined;
    }
    return new Promise((resolve) => tally.waiting.push(resolve));
  }

  private release(connection: object, failed: boolean): void {
    const tally = this.tallies.get(connection);
    if (tally === undefined) return;
    tally.checking -= 1;
    if (failed) tally.failed += 1;
    this.wake(connection, tally);
  }

  /** Gives waiting handshakes the turns now free, or refuses them all once the connection is over its cap. */
  private wake(connection: object, tally: ConnectionTally): void {
    const cap = this.limits.perConnection;
    if (tally.failed >= cap) {
      for (const resolve of tally.waiting.splice(0)) resolve('connection');
      return;
    }
    while (tally.waiting.length > 0 && tally.checking + tally.failed < cap) {
      tally.checking += 1;
      tally.waiting.shift()?.(undefined);
    }
    if (tally.checking === 0 && tally.failed === 0 && tally.waiting.length === 0) this.tallies.delete(connection);
  }

  private tallyOf(connection: object): ConnectionTally {
    let tally = this.tallies.get(connection);
    if (tally === undefined) this.tallies.set(connection, (tally = { checking: 0, failed: 0, waiting: [] }));
    return tally;
  }
}
