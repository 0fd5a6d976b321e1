import type { GatewayNamespace } from '../protocol/socket-types.js';
import type { ActiveSessionStore } from '../stores/active-sessions.js';
import type { HistoryStore } from '../stores/history.js';
import { LocalPresenceReader } from '../stores/local-presence.js';
import { MemoryActiveSessions } from '../stores/memory-active-sessions.js';
import { MemoryHistory } from '../stores/memory-history.js';
import { MemoryMembership } from '../stores/memory-membership.js';
import { MergedPresenceReader } from '../stores/merged-presence.js';
import { NodeMembership } from '../stores/node-membership.js';
import type { PresenceReader } from '../stores/presence.js';
import type { AdapterConstructor, Engine } from './engine.js';
import { inProcessAdapterClass, type InProcessAdapter } from './in-process-adapter.js';
import { InProcessBus } from './in-process-bus.js';

export interface InProcessClusterOptions {
  /** Messages kept per room; 0 turns history off. */
  readonly historySize: number;
  readonly historyTtlMs: number;
}

/**
 * Several gateway nodes in one process behaving as one cluster, without Redis: for tests of cross-node
 * behaviour (N real gateways, each on its own port, real HTTP and stock clients) and for embedding.
 *
 * Fan-out goes through socket.io-adapter's cluster protocol (the one the Redis Streams adapter runs)
 * over an {@link InProcessBus}, which delivers asynchronously as a network would; room history, room
 * membership counts and active sessions are one memory store shared by every node; each node's presence
 * reader answers for every running node, read from their Socket.IO adapters. Connection-state recovery
 * works across nodes (see {@link InProcessAdapter}).
 *
 * What it cannot do: span processes — the nodes live and die with this one, so there are no node
 * crashes, no unreachable store and no real concurrency to test; Redis itself (faults, key prefixes,
 * atomic scripts) is tested on Redis. The stores beside the engine (client registry, login throttle)
 * follow each gateway's config as with the memory engine.
 */
export class InProcessCluster {
  private readonly bus = new InProcessBus();
  private readonly sessions = new MemoryActiveSessions();
  private readonly membership = new MemoryMembership();
  private readonly history: MemoryHistory | undefined;
  /** The nodes bound to their Socket.IO namespace and not closed: what presence answers for. */
  private readonly running = new Set<InProcessNode>();

  constructor(options: InProcessClusterOptions) {
    this.history = options.historySize > 0 ? new MemoryHistory(options.historySize, options.historyTtlMs) : undefined;
  }

  /**
   * Adds a node and answers its engine, for one gateway (`createGateway(config, logger, { engine })`),
   * which binds it and closes it when it stops; closing it takes the node out of the cluster.
   */
  addNode(): Engine {
    return new InProcessNode(this.bus, this.sessions, new NodeMembership(this.membership), this.history, this.running);
  }

  /** Stops the shared history's sweeper; close the gateways first. */
  close(): void {
    this.history?.close();
  }
}

/** One node's engine: its own adapter class and membership view over the cluster's bus and stores. */
class InProcessNode implements Engine {
  readonly name = 'in-process';
  readonly adapter: AdapterConstructor;
  readonly presence: PresenceReader;
  /** This node's sockets only; the cluster's presence asks every running node's. */
  readonly localPresence: PresenceReader = new LocalPresenceReader(() => this.requireGatewayNamespace());
  private readonly adapters = new Set<InProcessAdapter>();
  private namespace: GatewayNamespace | undefined;

  constructor(
    bus: InProcessBus,
    readonly sessions: ActiveSessionStore,
    readonly membership: NodeMembership,
    readonly history: HistoryStore | undefined,
    private readonly running: Set<InProcessNode>,
  ) {
    this.adapter = inProcessAdapterClass(bus, this.adapters);
    this.presence = new MergedPresenceReader(() => [...running].map((node) => node.localPresence));
  }

  async bind(namespace: GatewayNamespace): Promise<void> {
    this.namespace = namespace;
    this.running.add(this);
  }

  isReady(): boolean {
    return true;
  }

  /** Leaves the cluster: presence stops counting this node, its room counts are withdrawn, its adapters close. */
  async close(): Promise<void> {
    this.running.delete(this);
    await this.membership.withdraw();
    for (const adapter of [...this.adapters]) adapter.close();
    this.namespace = undefined;
  }

  private requireGatewayNamespace(): GatewayNamespace {
    if (this.namespace === undefined) throw new Error('in-process node used before bind()');
    return this.namespace;
  }
}
