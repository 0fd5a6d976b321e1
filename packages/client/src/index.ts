/**
 * @switchboard/client — Switchboard's client for browsers and Node: every message once and in order per
 * room across reconnects (connection-state recovery, then history), tokens refreshed without reconnecting,
 * final refusals told from transient ones. See the README's "Client SDK" section.
 */
export { createClient, type Client, type ClientOptions, type ClientState, type Subscription } from './client.js';
export type { Gap, MessageHandler, MessageMeta } from './room-feed.js';
export { SwitchboardError } from './errors.js';
export type * from './protocol.js';
export { EventDataClientInstance, EventDataConfig, type EventDataAuthentication, type EventDataConnection } from './event-data-client.js';
