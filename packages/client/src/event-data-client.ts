import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { isErrorBody } from './errors.js';

/** How seed 002's client sends its token: `auth.Authorization`, raw or `Bearer `-prefixed. */
export interface EventDataAuthentication {
  auth: string;
  authMode: 'Basic' | 'Bearer' | 'AwsSignature';
}

/** Seed 002's `client.config`. */
export class EventDataConfig {
  host = '';
  port: number | undefined = undefined;
  namespace = '';
  authentication: EventDataAuthentication | undefined = undefined;
  options: Partial<ManagerOptions & SocketOptions> = {};
}

/** What seed 002's `onConnect` / `onDisconnect` / `onConnectError` receive; `code` is Switchboard's, on refusals. */
export interface EventDataConnection {
  socketId: string;
  socketConnected: boolean;
  code?: string;
}

/** How long seed 002's client waited before trying again after a `connect_error` it had no handler for. */
const RETRY_MS = 1000;

/**
 * Seed 002's (`@medyll/idae-socket`) client, for its users to change only their import:
 * `config.host` / `port` / `namespace` / `authentication` / `options`, `onConnect` / `onDisconnect` /
 * `onConnectError`, `connect()`, `socket`. Without an `onConnectError` it tries again a second after a
 * `connect_error`, as the seed did, except after a final refusal (a bad token), which would only be refused again.
 */
export class EventDataClientInstance {
  config = new EventDataConfig();
  socket!: Socket;
  onConnect?: (connection: EventDataConnection) => void;
  onDisconnect?: (connection: EventDataConnection) => void;
  onConnectError?: (connection: EventDataConnection) => void;

  connect(): void {
    const host = [this.config.host, this.config.port].filter((part) => part !== undefined && part !== '').join(':');
    const uri = [host, this.config.namespace].filter((part) => part).join('/');
    const authentication = this.config.authentication;
    const opt = authentication === undefined ? {} : { auth: { Authorization: authentication.auth }, authMode: authentication.authMode };
    this.socket = io(uri, { ...opt, ...this.config.options });
    this.socket.connect();
    this.socket.on('connect_error', (error: Error & { data?: unknown }) => {
      const code = isErrorBody(error.data) ? error.data.code : undefined;
      if (this.onConnectError) return this.onConnectError({ ...this.connection(), ...(code === undefined ? {} : { code }) });
      const final = isErrorBody(error.data) && error.data.retryAfterS === undefined;
      if (!final && !this.socket.active) setTimeout(() => this.socket.connect(), RETRY_MS);
    });
    this.socket.on('disconnect', () => this.onDisconnect?.(this.connection()));
    this.socket.on('connect', () => this.onConnect?.(this.connection()));
  }

  private connection(): EventDataConnection {
    return { socketId: this.socket.id ?? '', socketConnected: this.socket.connected };
  }
}
