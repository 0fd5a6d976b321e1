import type { Namespace, Server, Socket } from 'socket.io';

/** What each connected socket carries in `socket.data` (set by the handshake, before any handler runs). */
export interface SocketData {
  userId: string;
  sessionId: string | undefined;
  /** Unix milliseconds. */
  connectedAt: number;
  /** Unix milliseconds after which the token is no longer valid; `undefined` for tokens without `exp`. */
  expiresAt: number | undefined;
  /** Rooms (names or `*` patterns) the token grants; absent when it grants none. */
  rooms?: readonly string[];
  /** The token's roles; the socket is in `role:{role}` for each. */
  roles?: readonly string[];
  /** The transaction events' client (tenant) whose namespaces the token may connect to. */
  clientId?: string;
  /** The token's permissions (EVENT_PERMISSIONS checks them). */
  permissions?: readonly string[];
  /** Per channel joined with a join token carrying `data.webhook_url`, that URL. */
  channelWebhooks?: Record<string, string>;
}

/**
 * Socket.IO's event maps are left open (`Record<string, any>`-shaped defaults) on purpose: the gateway
 * relays arbitrary backend events. This is the documented `any` boundary of the realtime layer.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenEvents = Record<string, (...args: any[]) => void>;

export type GatewayServer = Server<OpenEvents, OpenEvents, OpenEvents, SocketData>;
export type GatewaySocket = Socket<OpenEvents, OpenEvents, OpenEvents, SocketData>;
export type GatewayNamespace = Namespace<OpenEvents, OpenEvents, OpenEvents, SocketData>;
