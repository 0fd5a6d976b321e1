/** Names Socket.IO uses itself; an app event with one of them would be swallowed or break clients. */
export const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set([
  'connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener',
  'error', 'ping', 'pong', 'reconnect', 'reconnect_attempt', 'reconnect_error', 'reconnect_failed',
]);

/**
 * The first event every socket receives when connection-state recovery is on (none on a recovered
 * connection): no data, only the recovery offset Socket.IO appends to broadcasts, which the client sends
 * back when it reconnects.
 */
export const READY_EVENT = 'switchboard:ready';

/**
 * Events the gateway itself sends clients: no CLIENT_EVENTS pattern may match one (checked at start-up
 * and again per event), so no client can impersonate the server.
 */
export const GATEWAY_EVENTS: readonly string[] = [
  'auth:logout', 'auth:expired', 'auth:refreshed', 'auth:error', 'join:error', 'leave:error',
  'room/joined-room', 'room/left-room', 'joined-room', 'left-room', 'room/user-connected', 'room/user-disconnected',
  'room/receive-message', 'single-chat/receive-message', READY_EVENT,
];
