import type { Metrics } from '../runtime/metrics.js';
import type { RefusalRecorder } from '../runtime/recent-activity.js';
import type { Logger } from 'pino';
import type { ExtendedError } from 'socket.io';
import { GatewayError } from '../protocol/errors.js';
import type { GatewaySocket } from '../protocol/socket-types.js';
import type { LogSampler, SampledLine } from '../runtime/log-sampler.js';
import type { ConnectionAddresses } from './connection-addresses.js';
import type { FailedHandshakes, FailureLimit } from './failed-handshakes.js';

/** The WebSocket close code of a transient refusal: 1013, "Try Again Later" (RFC 6455's registry). */
export const RETRY_CLOSE_CODE = 1013;

/** What a handshake middleware calls to go on (`next()`) or to refuse (`next(err)`). */
export type HandshakeNext = (err?: ExtendedError) => void;

/** The refusal a failure limit answers with (transient: a stock client retries with its backoff). */
const LIMIT_REFUSALS: Record<FailureLimit, { message: string; log: string }> = {
  connection: {
    message: 'Too many failed handshakes on this connection; retry later',
    log: 'too many failed handshakes on one connection; closing it',
  },
  address: {
    message: 'Too many failed handshakes from this address; retry later',
    log: 'too many failed handshakes from one address; refused unchecked',
  },
};

/**
 * How every Socket.IO handshake of the gateway is refused, counted and logged. A handshake middleware
 * takes a turn ({@link begin}) before it checks anything costly, and ends it with {@link accept} or
 * {@link refuse}; a later middleware only refuses. Failed handshakes (a final refusal, or
 * `AUTH_UNAVAILABLE`) count against their connection and address ({@link FailedHandshakes}); a
 * handshake over either limit is refused `RATE_LIMITED` before any check.
 *
 * Each log line is written once per connection and once per address (or code) per window of the
 * {@link LogSampler}, with a summary of what was not written: a connection sending thousands of CONNECTs
 * writes a handful of lines.
 */
export class HandshakeRefusals {
  /** Sockets holding a turn of {@link FailedHandshakes}. */
  private readonly turns = new WeakSet<GatewaySocket>();
  /** Refusals waiting for their connection to close (see {@link closeForRetry}). */
  private readonly closing = new WeakMap<object, Array<() => void>>();
  private readonly refusedLine: SampledLine;
  private readonly retryLine: SampledLine;
  private readonly unexpectedLine: SampledLine;
  private readonly limitLines: Record<FailureLimit, SampledLine>;

  constructor(
    private readonly failed: FailedHandshakes,
    private readonly addresses: ConnectionAddresses,
    logs: LogSampler,
    logger: Logger,
    /** Counts every refusal by code, and the failed-handshake limits' among the rate limits; `undefined` = metrics off. */
    private readonly metrics: Pick<Metrics, 'handshakeOutcomes' | 'rateLimit'> | undefined,
    /** Told the code of every refusal (the admin dashboard's recent refusals); `undefined` = nobody is. */
    private readonly recent: RefusalRecorder | undefined,
  ) {
    this.refusedLine = logs.line(logger, 'debug', 'handshake refused');
    this.retryLine = logs.line(logger, 'warn', 'handshake refused for now; closing the connection so the client retries');
    this.unexpectedLine = logs.line(logger, 'error', 'handshake failed unexpectedly');
    this.limitLines = {
      connection: logs.line(logger, 'warn', LIMIT_REFUSALS.connection.log),
      address: logs.line(logger, 'warn', LIMIT_REFUSALS.address.log),
    };
  }

  /**
   * Takes the turn `socket`'s handshake needs before anything costly is checked. Answers false when it
   * may not go on: its connection or address is over its failure limit (the handshake is refused here),
   * or its connection closed while it waited.
   */
  async begin(socket: GatewaySocket, next: HandshakeNext): Promise<boolean> {
    const address = this.addresses.of(socket.conn);
    const limit = await this.failed.begin(socket.conn, address);
    if (limit !== undefined) {
      this.limitLines[limit].write(socket.conn, { address }, { socketId: socket.id, nsp: socket.nsp.name });
      this.metrics?.handshakeOutcomes.refused('RATE_LIMITED');
      this.recent?.refused('RATE_LIMITED');
      this.metrics?.rateLimit(limit === 'connection' ? 'failed_handshakes_per_connection' : 'failed_handshakes_per_address').inc();
      this.answer(socket, next, new GatewayError('RATE_LIMITED', LIMIT_REFUSALS[limit].message));
      return false;
    }
    if (socket.conn.readyState !== 'open') {
      this.failed.end(socket.conn, address, false);
      next(new Error('connection closed')); // Socket.IO drops the socket of a closed connection; nothing is sent
      return false;
    }
    this.turns.add(socket);
    return true;
  }

  /** Ends the turn of a handshake that passed. */
  accept(socket: GatewaySocket): void {
    if (this.turns.delete(socket)) this.failed.end(socket.conn, this.addresses.of(socket.conn), false);
  }

  /**
   * Refuses `socket`'s handshake as {@link answer} says, logs it, and counts it when it failed: a final
   * refusal, or `AUTH_UNAVAILABLE` (a check that was made and did not pass). The gateway's own transient
   * refusals (draining, the per-user cap, the engine away) are not the client's failures.
   */
  refuse(socket: GatewaySocket, next: HandshakeNext, refusal: GatewayError): void {
    const address = this.addresses.of(socket.conn);
    const failed = refusal.retryAfterS === undefined || refusal.code === 'AUTH_UNAVAILABLE';
    if (this.turns.delete(socket)) this.failed.end(socket.conn, address, failed);
    else if (failed) this.failed.fail(socket.conn, address);
    this.metrics?.handshakeOutcomes.refused(refusal.code);
    this.recent?.refused(refusal.code);
    const fields = { code: refusal.code, socketId: socket.id, nsp: socket.nsp.name };
    if (refusal.retryAfterS === undefined) this.refusedLine.write(socket.conn, { address }, fields);
    else this.retryLine.write(socket.conn, { code: refusal.code }, fields);
    this.answer(socket, next, refusal);
  }

  /** Logs a handshake check that threw something else than a catalog error (then refused as unavailable). */
  failedUnexpectedly(socket: GatewaySocket, error: unknown): void {
    this.unexpectedLine.write(socket.conn, {}, { err: error, socketId: socket.id, nsp: socket.nsp.name });
  }

  /**
   * Answers a refusal so that a stock socket.io-client v4 does the right thing. A final refusal (no retry
   * hint in the catalog) is `next(err)`: the client gets `connect_error` with `err.data.code` and stops. A
   * transient one (`AUTH_UNAVAILABLE`, `ENGINE_UNAVAILABLE`, `SHUTTING_DOWN`, `RATE_LIMITED`) closes the
   * whole connection instead ({@link closeForRetry}) — the client never retries after a `connect_error`,
   * but it does reconnect, with its backoff, after a closed transport.
   */
  private answer(socket: GatewaySocket, next: HandshakeNext, refusal: GatewayError): void {
    if (refusal.retryAfterS === undefined) next(toConnectError(refusal));
    else this.closeForRetry(socket, next, refusal);
  }

  /**
   * Closes `socket`'s connection for a transient refusal: on WebSocket with {@link RETRY_CLOSE_CODE} and
   * the code as its reason, which the client sees in its `disconnect` event's description. The refusal is
   * handed to Socket.IO (`next(err)`) once the connection has closed: Socket.IO then drops the socket
   * without answering — without it the socket would stay in the namespace's pending sockets for good.
   */
  private closeForRetry(socket: GatewaySocket, next: HandshakeNext, refusal: GatewayError): void {
    const connection = socket.conn;
    const handOver = () => next(toConnectError(refusal));
    if (connection.readyState === 'closed') return handOver();
    const waiting = this.closing.get(connection);
    if (waiting !== undefined) return void waiting.push(handOver);
    this.closing.set(connection, [handOver]);
    connection.once('close', () => {
      const handOvers = this.closing.get(connection) ?? [];
      this.closing.delete(connection);
      for (const pending of handOvers) pending();
    });
    // Engine.IO keeps the WebSocket private; its `close(code, reason)` is the one of the `ws` package.
    const transport = connection.transport as unknown as { name: string; socket?: { close(code: number, reason: string): void } };
    if (transport.name === 'websocket' && transport.socket !== undefined) transport.socket.close(RETRY_CLOSE_CODE, refusal.code);
    else connection.close();
  }
}

/** The error Socket.IO sends as `connect_error`: the client reads `err.message` and `err.data.code`. */
export function toConnectError(error: GatewayError): ExtendedError {
  const connectError: ExtendedError = new Error(error.message);
  connectError.data = error.toBody();
  return connectError;
}
