/**
 * The groups of the OpenAPI document (its tags), in the order the reference page shows them: one per
 * surface. A surface names its tag with `describeRoutes`; tags of surfaces that are switched off are left out.
 */
export const TAGS = {
  v1: { name: 'v1', description: 'The canonical API: publish to users, sessions and rooms; users, rooms, presence, history, stats; join tokens (docs/http-api.md)' },
  internal: { name: 'internal (seed 003)', description: 'Emit an allowed event to one user; make one session the active one (INTERNAL_API)' },
  channelEvents: { name: 'channel events (seed 001)', description: 'Broadcast an event to a channel (CHANNEL_EVENTS_API)' },
  transactions: { name: 'transactions (seed 000)', description: 'Register clients and send them transaction events on their namespaces (TRANSACTIONS_API)' },
  eventGateway: { name: 'event gateway (seed 002)', description: 'Emit an event to rooms, roles or one user (EVENT_GATEWAY_API, under GATEWAY_BASE_PATH)' },
  authService: { name: 'auth service', description: 'Login, refresh, logout, password change (docs/auth-service.md)' },
  metrics: { name: 'metrics', description: 'Prometheus metrics of this node (METRICS; docs/operations.md#metrics)' },
  health: { name: 'health', description: 'Liveness and readiness, for probes and load balancers; no key' },
  documentation: { name: 'documentation', description: 'These descriptions of the API; no key (API_DOCS)' },
} as const;
