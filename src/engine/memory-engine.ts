import type { GatewayNamespace } from '../protocol/socket-types.js';
import { LocalPresenceReader } from '../stores/local-presence.js';
import { MemoryActiveSessions } from '../stores/memory-active-sessions.js';
import { MemoryHistory } from '../stores/memory-history.js';
import { MemoryMembership } from '../stores/memory-membership.js';
import type { PresenceReader } from '../stores/presence.js';
import type { Engine } from './engine.js';

/**
 * The in-memory engine: the embedded default and the test stand-in. One node only — nothing is shared
 * with other processes, and active sessions are forgotten on restart.
 */
export class MemoryEngine implements Engine {
  readonly name = 'memory';
  readonly adapter = undefined;
  readonly sessions = new MemoryActiveSessions();
  readonly history: MemoryHistory | undefined;
  readonly membership = new MemoryMembership();
  private namespace: GatewayNamespace | undefined;
  readonly presence: PresenceReader = new LocalPresenceReader(() => this.requireGatewayNamespace());

  /** `historySize` 0 turns room history off. */
  constructor(historySize: number, historyTtlMs: number) {
    this.history = historySize > 0 ? new MemoryHistory(historySize, historyTtlMs) : undefined;
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
