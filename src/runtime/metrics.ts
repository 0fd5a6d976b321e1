import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DurationHistogram, Outcomes, TallyCounter, type DurationSeries, type Tally } from './metric-series.js';

/** One value of a gauge of current state, read at scrape time. */
export interface GaugeSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Reads a gauge of current state when Prometheus scrapes: one number per label set. */
export type GaugeSampler = () => readonly GaugeSample[] | Promise<readonly GaugeSample[]>;

/** The surfaces a publish comes in through (label `surface` of the publish metrics). */
export const PUBLISH_SURFACES = ['v1', 'internal', 'channel-events', 'transactions', 'event-gateway', 'socket'] as const;
export type PublishSurface = (typeof PUBLISH_SURFACES)[number];

/** The limits and caps whose refusals `switchboard_rate_limited_total` counts (label `limit`). */
export type RateLimit =
  | 'client_events' | 'handshake_rate' | 'connections_per_address' | 'pending_handshakes' | 'connections_per_user' | 'failed_handshakes_per_connection'
  | 'failed_handshakes_per_address' | 'http' | 'login';

/** What one surface's publishes are counted in: outcomes (`ok` or the catalog code) and the duration of the accepted ones. */
export interface PublishMeter {
  readonly outcomes: Outcomes;
  readonly duration: DurationSeries;
}

/** Latency buckets of the publish path (seconds): sub-millisecond in memory, a few ms with Redis history. */
const PUBLISH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** A Prometheus text exposition and its content type. */
export interface MetricsExposition {
  readonly contentType: string;
  readonly body: string;
}

/** A node's series as prom-client's JSON, which `AggregatorRegistry.aggregate` merges across workers. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Latency buckets of one Redis command or pipeline (seconds). */
const REDIS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];

/**
 * Every metric a gateway node exports, in a prom-client registry of its own (not prom-client's global one:
 * several gateways in one process, as the tests run them, keep their own). Counters and histograms are
 * counted where things happen, in plain cells ({@link TallyCounter}, {@link DurationHistogram}: no
 * allocation on the hot path); gauges of current state are read at scrape time through {@link sample}, so
 * nothing is counted on the publish path that a scrape can read instead. Every series carries the node id
 * (label `node`): in a cluster each node serves its own.
 *
 * The composition root builds one per node when METRICS is on and hands each part what it counts; with
 * METRICS=false there is none and nothing is counted. docs/operations.md lists the metrics; deploy/grafana/
 * charts them.
 */
export class Metrics {
  private readonly registry = new Registry();

  // --- connections
  readonly connections: Gauge<'transport' | 'namespace'>;
  readonly handshakes: TallyCounter<'result'>;
  readonly disconnects: TallyCounter<'reason'>;
  readonly recoveries: TallyCounter<'result'>;
  // --- publishing
  readonly publishes: TallyCounter<'surface' | 'outcome'>;
  readonly messagesDelivered: TallyCounter;
  readonly publishDuration: DurationHistogram<'surface'>;
  readonly historyAppends: TallyCounter;
  // --- rooms and presence
  readonly rooms: Gauge<'kind'>;
  readonly presenceUsers: Gauge;
  // --- client events and limits
  readonly clientEvents: TallyCounter<'kind' | 'outcome'>;
  readonly rateLimited: TallyCounter<'limit'>;
  // --- webhooks
  readonly webhookQueueDepth: Gauge;
  readonly webhookDeliveries: TallyCounter<'outcome'>;
  // --- engine
  readonly engineReady: Gauge;
  readonly engineErrors: TallyCounter;
  readonly redisCommandDuration: DurationHistogram;
  // --- auth service (exported only once it is on: registerAuthService)
  readonly authLogins: TallyCounter<'outcome'>;
  readonly authRefreshes: TallyCounter<'outcome'>;
  readonly authRevocations: TallyCounter<'reason'>;

  /** Handshakes: `ok` (a socket connected) or the refusal's code. */
  readonly handshakeOutcomes: Outcomes;
  readonly loginOutcomes: Outcomes;
  readonly refreshOutcomes: Outcomes;
  /** Each publishing surface's meter, made up front so every surface's series exist from the start. */
  readonly publishing: Readonly<Record<PublishSurface, PublishMeter>>;

  private readonly samplers = new Map<Gauge<string>, GaugeSampler>();

  constructor(private readonly nodeId: string) {
    const registers = [this.registry];
    const sampled = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> => {
      const samplers = this.samplers;
      const gauge: Gauge<L> = new Gauge<L>({
        name, help, labelNames, registers,
        async collect() {
          const sampler = samplers.get(gauge as Gauge<string>);
          if (sampler === undefined) return;
          const samples = await sampler();
          gauge.reset();
          for (const { labels, value } of samples) gauge.set(labels as Partial<Record<L, string>>, value);
        },
      });
      return gauge;
    };

    this.connections = sampled('switchboard_connections', 'Open sockets on this node, by transport and namespace', ['transport', 'namespace']);
    this.handshakes = new TallyCounter({ name: 'switchboard_handshakes_total', help: 'Socket handshakes, by result: ok (a socket connected) or the refusal\'s catalog code', labelNames: ['result'], registers });
    this.disconnects = new TallyCounter({ name: 'switchboard_disconnects_total', help: 'Sockets disconnected, by Socket.IO reason', labelNames: ['reason'], registers });
    this.recoveries = new TallyCounter({ name: 'switchboard_recoveries_total', help: 'Reconnections that asked for connection-state recovery, by result (recovered, not_recovered)', labelNames: ['result'], registers });
    this.publishes = new TallyCounter({ name: 'switchboard_publishes_total', help: 'Publish requests, by surface and outcome (ok or the catalog code answered)', labelNames: ['surface', 'outcome'], registers });
    this.messagesDelivered = new TallyCounter({ name: 'switchboard_messages_delivered_total', help: 'Messages handed to sockets of this node by its publishes (an estimate: the sockets in the target rooms on this node when emitted)', registers });
    this.publishDuration = new DurationHistogram({
      name: 'switchboard_publish_duration_seconds', help: 'From the publish request in to the message handed to the adapter, by surface', labelNames: ['surface'], registers,
      buckets: PUBLISH_BUCKETS,
    });
    this.historyAppends = new TallyCounter({ name: 'switchboard_history_appends_total', help: 'Messages appended to room history (one per room)', registers });
    this.rooms = sampled('switchboard_rooms', 'Rooms with at least one socket on this node: joined (rooms clients joined) or own (user:, session:, role: rooms)', ['kind']);
    this.presenceUsers = sampled('switchboard_presence_users', 'Distinct users connected to this node');
    this.clientEvents = new TallyCounter({ name: 'switchboard_client_events_total', help: 'Events sent by clients, by kind (the gateway\'s event name, client-event, unknown) and outcome (ok or the catalog code)', labelNames: ['kind', 'outcome'], registers });
    this.rateLimited = new TallyCounter({ name: 'switchboard_rate_limited_total', help: 'Refusals by a rate limit or cap, by limit', labelNames: ['limit'], registers });
    this.webhookQueueDepth = sampled('switchboard_webhook_queue_depth', 'Webhook deliveries not finished: queued, waiting for a retry, or in flight');
    this.webhookDeliveries = new TallyCounter({ name: 'switchboard_webhook_deliveries_total', help: 'Webhook deliveries by outcome: delivered, failed (given up), dropped (queue full), retried (an attempt to be retried)', labelNames: ['outcome'], registers });
    this.engineReady = sampled('switchboard_engine_ready', '1 when the engine can serve (Redis reachable), else 0');
    this.engineErrors = new TallyCounter({ name: 'switchboard_engine_errors_total', help: 'Commands of the gateway\'s Redis stores that failed or were refused because Redis was unreachable', registers });
    this.redisCommandDuration = new DurationHistogram({
      name: 'switchboard_redis_command_duration_seconds', help: 'Latency of the gateway\'s own Redis commands and pipelines (not the adapter\'s)', registers,
      buckets: REDIS_BUCKETS,
    });
    this.authLogins = new TallyCounter({ name: 'switchboard_auth_logins_total', help: 'Auth service logins, by outcome (ok or the catalog code answered)', labelNames: ['outcome'], registers: [] });
    this.authRefreshes = new TallyCounter({ name: 'switchboard_auth_refreshes_total', help: 'Auth service token refreshes, by outcome (ok or the catalog code answered)', labelNames: ['outcome'], registers: [] });
    this.authRevocations = new TallyCounter({ name: 'switchboard_auth_revocations_total', help: 'Sessions revoked by this node\'s auth service, by reason (logout, refresh-token-reused, password-changed)', labelNames: ['reason'], registers: [] });

    this.handshakeOutcomes = new Outcomes(this.handshakes);
    this.loginOutcomes = new Outcomes(this.authLogins);
    this.refreshOutcomes = new Outcomes(this.authRefreshes);
    this.publishing = Object.fromEntries(PUBLISH_SURFACES.map((surface) => [surface, {
      outcomes: new Outcomes(this.publishes, surface),
      duration: this.publishDuration.of(surface),
    }])) as Record<PublishSurface, PublishMeter>;
    this.recoveries.tally('recovered');
    this.recoveries.tally('not_recovered');
  }

  /** Registers the sampler a gauge of current state is read with at scrape time. */
  sample(gauge: Gauge<string>, sampler: GaugeSampler): void {
    this.samplers.set(gauge, sampler);
  }

  /** Outcomes of one kind of client event (a name the gateway declares, never one a client made up). */
  clientEventOutcomes(kind: string): Outcomes {
    return new Outcomes(this.clientEvents, kind);
  }

  /** The cell one rate limit's refusals are counted in. */
  rateLimit(limit: RateLimit): Tally {
    return this.rateLimited.tally(limit);
  }

  /** Exports the auth service's metrics too (it is on). */
  registerAuthService(): void {
    this.registry.registerMetric(this.authLogins.metric);
    this.registry.registerMetric(this.authRefreshes.metric);
    this.registry.registerMetric(this.authRevocations.metric);
  }

  /** Every metric this node exports (the process's default ones included) with its type and label names (`node` first). */
  async catalog(): Promise<{ readonly name: string; readonly type: string; readonly labels: readonly string[] }[]> {
    const registries = [this.registry, processMetrics()];
    const described = await Promise.all(registries.map(async (registry) => (await registry.getMetricsAsJSON()).map(({ name, type }) => {
      const metric: unknown = registry.getSingleMetric(name);
      const labelNames = typeof metric === 'object' && metric !== null && 'labelNames' in metric && Array.isArray(metric.labelNames) ? metric.labelNames.map(String) : [];
      return { name, type: String(type), labels: ['node', ...labelNames] };
    })));
    return described.flat();
  }

  /** The Prometheus text exposition: this node's metrics and the process's, every series labelled with the node id. */
  async exposition(): Promise<MetricsExposition> {
    const scraped = this.labelled();
    return { contentType: scraped.contentType, body: await scraped.metrics() };
  }

  /** The same series as {@link exposition}, as prom-client's JSON (what a WORKERS primary aggregates). */
  async snapshot(): Promise<MetricsSnapshot> {
    return this.labelled().getMetricsAsJSON();
  }

  private labelled(): Registry {
    const scraped = Registry.merge([this.registry, processMetrics()]);
    scraped.setDefaultLabels({ node: this.nodeId });
    return scraped;
  }
}

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, handles, GC, event-loop lag): facts of the process, so
 * collected once per process whatever number of gateways it runs (each collection starts an event-loop
 * monitor and a GC observer that are never stopped) and exported by each node with its own `node` label.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
