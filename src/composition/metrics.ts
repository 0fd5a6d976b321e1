import type { Config } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import { namespaceLabel } from '../http/transactions/client-namespaces.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import { connectionSamples, roomSamples } from '../realtime/socket-gauges.js';
import { Metrics } from '../runtime/metrics.js';
import type { RedisCommandMeter } from '../stores/redis-connection.js';
import type { WebhookSender } from '../webhooks/webhook-sender.js';

/** The node's metrics with METRICS on; `undefined` with METRICS=false: no registry, and nothing counts. */
export function createMetrics(config: Config, nodeId: string): Metrics | undefined {
  return config.metrics === undefined ? undefined : new Metrics(nodeId);
}

/** Where the Redis connection times its commands and counts their failures (the engine's errors). */
export function redisCommandMeter(metrics: Metrics | undefined): RedisCommandMeter | undefined {
  return metrics === undefined ? undefined : { duration: metrics.redisCommandDuration.of(), failures: metrics.engineErrors.tally() };
}

/**
 * Registers what is read when Prometheus scrapes rather than counted as it happens: sockets by transport
 * and namespace, rooms and users of `/`, the engine's readiness, and the webhook sender's queue and
 * delivery counts (which it keeps anyway).
 */
export function sampleGatewayState(metrics: Metrics, parts: { readonly io: GatewayServer; readonly engine: Engine; readonly webhookSender: WebhookSender }): void {
  const { io, engine, webhookSender } = parts;
  metrics.sample(metrics.connections, () => connectionSamples(io, namespaceLabel));
  metrics.sample(metrics.rooms, () => roomSamples(io).rooms);
  metrics.sample(metrics.presenceUsers, () => roomSamples(io).users);
  metrics.sample(metrics.engineReady, () => [{ labels: {}, value: engine.isReady() ? 1 : 0 }]);
  metrics.sample(metrics.webhookQueueDepth, () => {
    const { pending, inFlight } = webhookSender.stats();
    return [{ labels: {}, value: pending + inFlight }];
  });
  metrics.webhookDeliveries.readFrom(() => {
    const { delivered, failed, dropped, retried } = webhookSender.stats();
    return [['delivered', delivered], ['failed', failed], ['dropped', dropped], ['retried', retried]];
  });
}
