import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A value read when Prometheus scrapes (a gauge of current state): the sampler answers one number per label set. */
export type GaugeSampler = () => Promise<readonly { readonly labels: Record<string, string>; readonly value: number }[]>;

/**
 * Every metric the gateway exports, in one prom-client registry per node (not prom-client's global one:
 * several gateways in one process, as the tests run them, keep their own). Counters and histograms are
 * moved where things happen; gauges of current state are sampled at scrape time through
 * {@link Metrics.sample}, so nothing is counted on the publish path that a scrape can read instead.
 * Every series carries the node id (label `node`): in a cluster each node serves its own.
 *
 * docs/operations.md lists them; deploy/grafana/ charts them.
 */
export class Metrics {
  readonly registry = new Registry();

  // --- connections
  readonly connections: Gauge<'transport' | 'namespace'>;
  readonly handshakes: Counter<'result'>;
  readonly disconnects: Counter<'reason'>;
  readonly recoveries: Counter<'result'>;
  // --- publishing
  readonly publishes: Counter<'surface' | 'outcome'>;
  readonly messagesDelivered: Counter;
  readonly publishDuration: Histogram<'surface'>;
  readonly historyAppends: Counter;
  // --- rooms and presence
  readonly rooms: Gauge;
  readonly presenceUsers: Gauge;
  // --- client events and limits
  readonly clientEvents: Counter<'kind' | 'outcome'>;
  readonly rateLimited: Counter<'limit'>;
  // --- webhooks
  readonly webhookQueueDepth: Gauge;
  readonly webhookDeliveries: Counter<'outcome'>;
  // --- engine
  readonly engineReady: Gauge;
  readonly engineErrors: Counter;
  readonly redisCommandDuration: Histogram;
  // --- auth service (registered only when it is on)
  readonly authLogins: Counter<'outcome'>;
  readonly authRefreshes: Counter<'outcome'>;
  readonly authRevocations: Counter;

  private readonly samplers = new Map<Gauge<string>, GaugeSampler>();

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const sampled = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> => {
      const samplers = this.samplers;
      const gauge: Gauge<L> = new Gauge<L>({
        name, help, labelNames, registers,
        async collect() {
          const sampler = samplers.get(gauge as Gauge<string>);
          if (sampler === undefined) return;
          gauge.reset();
          for (const { labels, value } of await sampler()) gauge.set(labels as Partial<Record<L, string>>, value);
        },
      });
      return gauge;
    };

    this.connections = sampled('switchboard_connections', 'Open sockets on this node, by transport and namespace', ['transport', 'namespace']);
    this.handshakes = new Counter({ name: 'switchboard_handshakes_total', help: 'Socket handshakes, by result: ok or the refusal\'s catalog code', labelNames: ['result'], registers });
    this.disconnects = new Counter({ name: 'switchboard_disconnects_total', help: 'Socket disconnections, by Socket.IO reason', labelNames: ['reason'], registers });
    this.recoveries = new Counter({ name: 'switchboard_recoveries_total', help: 'Reconnections that asked for connection-state recovery, by result (recovered, not_recovered)', labelNames: ['result'], registers });
    this.publishes = new Counter({ name: 'switchboard_publishes_total', help: 'Publish requests, by surface and outcome (ok or the catalog code)', labelNames: ['surface', 'outcome'], registers });
    this.messagesDelivered = new Counter({ name: 'switchboard_messages_delivered_total', help: 'Messages handed to this node\'s sockets (an estimate: sockets in the target rooms on this node when emitted)', registers });
    this.publishDuration = new Histogram({
      name: 'switchboard_publish_duration_seconds', help: 'From the publish request in to the message handed to the adapter', labelNames: ['surface'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    });
    this.historyAppends = new Counter({ name: 'switchboard_history_appends_total', help: 'Messages appended to room history', registers });
    this.rooms = sampled('switchboard_rooms', 'Rooms with at least one socket on this node');
    this.presenceUsers = sampled('switchboard_presence_users', 'Distinct users connected to this node');
    this.clientEvents = new Counter({ name: 'switchboard_client_events_total', help: 'Events sent by clients, by kind and outcome (ok or the catalog code)', labelNames: ['kind', 'outcome'], registers });
    this.rateLimited = new Counter({ name: 'switchboard_rate_limited_total', help: 'Refusals by a rate limit or cap, by limit', labelNames: ['limit'], registers });
    this.webhookQueueDepth = sampled('switchboard_webhook_queue_depth', 'Webhook deliveries waiting or being retried');
    this.webhookDeliveries = new Counter({ name: 'switchboard_webhook_deliveries_total', help: 'Webhook delivery attempts, by outcome', labelNames: ['outcome'], registers });
    this.engineReady = sampled('switchboard_engine_ready', '1 when the engine (Redis) is reachable, else 0');
    this.engineErrors = new Counter({ name: 'switchboard_engine_errors_total', help: 'Engine (Redis) commands that failed', registers });
    this.redisCommandDuration = new Histogram({
      name: 'switchboard_redis_command_duration_seconds', help: 'Latency of the gateway\'s own Redis commands (not the adapter\'s)', registers,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    });
    this.authLogins = new Counter({ name: 'switchboard_auth_logins_total', help: 'Auth service logins, by outcome (ok or the catalog code)', labelNames: ['outcome'], registers: [] });
    this.authRefreshes = new Counter({ name: 'switchboard_auth_refreshes_total', help: 'Auth service token refreshes, by outcome', labelNames: ['outcome'], registers: [] });
    this.authRevocations = new Counter({ name: 'switchboard_auth_revocations_total', help: 'Sessions revoked by the auth service (logout, reuse, password change)', registers: [] });
  }

  /** Registers the sampler a gauge of current state is read with at scrape time. */
  sample(gauge: Gauge<string>, sampler: GaugeSampler): void {
    this.samplers.set(gauge, sampler);
  }

  /** Exports the auth service's metrics too (it is on). */
  registerAuthService(): void {
    for (const metric of [this.authLogins, this.authRefreshes, this.authRevocations]) this.registry.registerMetric(metric);
  }

  /** The Prometheus text exposition of every metric. */
  async exposition(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
