import type { GatewayNamespace } from '../protocol/socket-types.js';
import { LocalPresenceReader } from '../stores/local-presence.js';
import type { MemoryActiveSessions } from '../stores/memory-active-sessions.js';
import type { MemoryHistory } from '../stores/memory-history.js';
import type { MemoryMembership } from '../stores/memory-membership.js';
import type { PresenceReader } from '../stores/presence.js';
import type { Engine } from './engine.js';

/**
 * The in-memory engine: the embedded default and the test stand-in. One node only — nothing is shared
 * with other processes, and active sessions are forgotten on restart.
 */
export class MemoryEngine implements Engine {
  readonly name = 'memory';
  readonly adapter = undefined;
  readonly sessions: MemoryActiveSessions;
  readonly history: MemoryHistory | undefined;
  readonly membership: MemoryMembership;
  private namespace: GatewayNamespace | undefined;
  readonly presence: PresenceReader = new LocalPresenceReader(() => this.requireGatewayNamespace());

  /** Bundles the stores the composition root built (history `undefined` when HISTORY_SIZE is 0); presence is read from this node's adapter. */
  constructor(stores: { readonly sessions: MemoryActiveSessions; readonly membership: MemoryMembership; readonly history: MemoryHistory | undefined }) {
    ({ sessions: this.sessions, membership: this.membership, history: this.history } = stores);
  }

  async bind(namespace: GatewayNamespace): Promise<void> {
    this.namespace = namespace;
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.history?.close();
    this.namespace = undefined;
  }

  private requireGatewayNamespace(): GatewayNamespace {
    if (this.namespace === undefined) throw new Error('MemoryEngine used before bind()');
    return this.namespace;
  }
}
