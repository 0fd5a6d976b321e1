import type { ServerOptions } from 'socket.io';
import type { GatewayNamespace } from '../protocol/socket-types.js';
import type { ActiveSessionStore } from '../stores/active-sessions.js';
import type { HistoryStore } from '../stores/history.js';
import type { MembershipStore } from '../stores/membership.js';
import type { PresenceReader } from '../stores/presence.js';

/** A Socket.IO adapter class, as `new Server({ adapter })` takes it. */
export type AdapterConstructor = NonNullable<ServerOptions['adapter']>;

/**
 * The engine: the seam between one gateway node and everything shared between nodes — fan-out
 * (through a Socket.IO adapter), active sessions, presence and room history. The composition root builds exactly one.
 */
export interface Engine {
  readonly name: string;
  /** The Socket.IO adapter doing cross-node fan-out; `undefined` means Socket.IO's built-in one-node adapter. */
  readonly adapter: AdapterConstructor | undefined;
  readonly sessions: ActiveSessionStore;
  readonly presence: PresenceReader;
  readonly membership: MembershipStore;
  /** Room history; `undefined` when HISTORY_SIZE is 0. */
  readonly history: HistoryStore | undefined;
  /** Called once the Socket.IO namespace exists, before the node takes traffic. */
  bind(namespace: GatewayNamespace): Promise<void>;
  /** False while the engine cannot serve (e.g. its backing store is unreachable): publishes answer 503. */
  isReady(): boolean;
  close(): Promise<void>;
}
