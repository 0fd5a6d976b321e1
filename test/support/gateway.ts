import { expect } from 'vitest';
import { io as connect, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { SignJWT, type JWTPayload } from 'jose';
import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Engine } from '../../src/engine/engine.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { createLogger } from '../../src/runtime/logger.js';
import { onCleanup } from './cleanup.js';
import { freshDir, unique } from './temp.js';
import { waitFor } from './wait.js';

/** Shared test support: the real gateway in-process on port 0, stock socket.io-client, real HTTP. */
export const TEST_API_KEY = 'test-api-key-5f3c1e9a';
export const TEST_JWT_SECRET = 'test-jwt-secret-8d2b7c4f6a1e0d9c';

export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  /** Every log line the gateway wrote, as raw JSON text. */
  readonly logs: string[];
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  /** Builds the gateway's engine from its config instead of the config's own choice (e.g. a node of an in-process cluster). */
  engine?: (config: Config) => Engine;
  /** Told of every HTTP route the gateway (and the auth service's own listener) adds. */
  onRoute?: GatewayOptions['onRoute'];
}

/** Starts a gateway with test defaults plus `env` overrides; it is closed after the test. */
export async function startGateway(env: Record<string, string> = {}, options: StartGatewayOptions = {}): Promise<TestGateway> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    API_KEYS: TEST_API_KEY,
    JWT_SECRET: TEST_JWT_SECRET,
    SHUTDOWN_TIMEOUT_MS: '5000',
    DATA_DIR: freshDir('data'),
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => void logs.push(line) });
  const gateway = await createGateway(config, logger, { engine: options.engine?.(config), ...(options.onRoute === undefined ? {} : { onRoute: options.onRoute }) });
  const url = await gateway.listen();
  const close = () => gateway.close();
  onCleanup(close);
  await untilReady(url);
  return { url, gateway, logs, close };
}

/** Waits until `/readyz` answers 200 (at once on the memory engine; once connected on Redis). */
export async function untilReady(url: string, timeoutMs = 5000): Promise<void> {
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs, intervalMs: 20, what: `${url}/readyz to answer 200` });
}

export interface TokenOptions {
  secret?: string;
  /** Seconds from now; negative for an already expired token. Default one hour. */
  expiresIn?: number | null;
  alg?: string;
}

/** Signs an HS256 test token; `claims` default to a fresh user and session. */
export async function signToken(claims: JWTPayload = {}, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ user_id: unique('user'), session_id: unique('session'), ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt(now - 1);
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
  if (expiresIn !== null) jwt.setExpirationTime(now + expiresIn);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Opens a stock socket.io-client without waiting; it is closed after the test. No automatic reconnection unless asked. */
export function openClient(url: string, options: ClientOptions = {}): Socket {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  onCleanup(() => void socket.close());
  return socket;
}

/** Connects with `token` in `auth` and resolves once connected; rejects with the connect_error. */
export async function connectClient(url: string, token: string, options: ClientOptions = {}): Promise<Socket> {
  const socket = openClient(url, { auth: { token }, ...options });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

export interface ConnectRefusal {
  message: string;
  data?: { code: string; message: string };
}

/** Connects and expects a refusal; resolves with the connect_error (message and data). */
export async function expectConnectError(url: string, options: ClientOptions): Promise<ConnectRefusal> {
  const socket = openClient(url, options);
  return new Promise<ConnectRefusal>((resolve, reject) => {
    socket.once('connect', () => reject(new Error('expected the connection to be refused, but it connected')));
    socket.once('connect_error', (error: Error & { data?: { code: string; message: string } }) =>
      resolve({ message: error.message, ...(error.data === undefined ? {} : { data: error.data }) }),
    );
  });
}

/**
 * Connects over WebSocket and expects a transient refusal: no `connect_error`, the connection closed with
 * code 1013 (Try Again Later). Resolves with the close reason, the catalog code.
 */
export async function expectRetryClose(url: string, options: ClientOptions): Promise<string> {
  const socket = openClient(url, options);
  return new Promise<string>((resolve, reject) => {
    socket.once('connect', () => reject(new Error('expected the connection to be closed for a retry, but it connected')));
    socket.once('connect_error', (error: Error & { data?: { code: string } }) => reject(new Error(`expected a closed connection, got connect_error ${error.data?.code ?? error.message}`)));
    socket.once('disconnect', (_reason, description) => {
      const close = closeOf(description);
      if (close.code === 1013) resolve(close.reason ?? '');
      else reject(new Error(`expected close code 1013, got ${String(close.code)}`));
    });
  });
}

/** The WebSocket close code and reason in a `disconnect` event's description (none over long-polling). */
export function closeOf(description: unknown): { code?: number; reason?: string } {
  const close = (description as { context?: { code?: unknown; reason?: unknown } } | undefined)?.context;
  return {
    ...(typeof close?.code === 'number' ? { code: close.code } : {}),
    ...(close?.reason === undefined ? {} : { reason: String(close.reason) }),
  };
}

/** Resolves with the arguments of the next `event` on `socket`; rejects after `timeoutMs`. */
export function nextEvent<T extends unknown[] = unknown[]>(socket: Socket, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    socket.once(event, listener);
  });
}

/**
 * Collects every event `socket` receives, for asserting that nothing (else) arrived — except
 * `switchboard:ready`, which every new connection gets (test/recovery-start.test.ts checks it).
 */
export function recordEvents(socket: Socket): { event: string; args: unknown[] }[] {
  const seen: { event: string; args: unknown[] }[] = [];
  socket.onAny((event: string, ...args: unknown[]) => {
    if (event !== 'switchboard:ready') seen.push({ event, args });
  });
  return seen;
}

/** Connects a stock client as `userId` in `sessionId`. */
export async function connectAs(url: string, userId: string, sessionId: string, options: ClientOptions = {}): Promise<Socket> {
  return connectClient(url, await signToken({ user_id: userId, session_id: sessionId }), options);
}

/**
 * Publishes a marker to each socket's own room and waits until every socket has it: everything published
 * before has arrived by then, so a test can assert that something else did not.
 */
export async function flush(url: string, ...sockets: Socket[]): Promise<void> {
  const arrivals = sockets.map((socket) => nextEvent(socket, 'test:marker'));
  const response = await api(url, '/v1/publish', { body: { event: 'test:marker', rooms: sockets.map((s) => s.id!) } });
  if (response.status !== 200) throw new Error(`marker publish answered ${response.status}`);
  await Promise.all(arrivals);
}

/** The reason of the client's next `disconnect` (the event's first argument). */
export async function disconnectReason(socket: Socket, timeoutMs = 3000): Promise<string> {
  return (await nextEvent<[string]>(socket, 'disconnect', timeoutMs))[0];
}

/** A catalog error answer. */
export interface ErrorResponse {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Socket.IO's connection-state recovery offset, appended to every broadcast a client receives. */
export const OFFSET = expect.any(String) as unknown as string;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Calls the HTTP API with the test API key (override with `headers`, or `key: null` for none).
 * `body` objects are sent as JSON; strings are sent as they are.
 */
export async function api<T = Record<string, unknown>>(
  url: string,
  path: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; key?: string | null } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? TEST_API_KEY}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: { ...headers, ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text.length > 0 ? JSON.parse(text) : {}) as T };
}
