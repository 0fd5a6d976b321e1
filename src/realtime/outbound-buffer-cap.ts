import type { Logger } from 'pino';
import type { GatewayServer } from '../protocol/socket-types.js';

/**
 * What is read of an Engine.IO connection (one per client, whatever namespaces its sockets are in): its id
 * and write buffer are private in engine.io 6's types, the `ws` socket under a WebSocket transport too.
 */
interface Connection {
  readonly id: string;
  readonly writeBuffer: readonly { readonly data?: string | Buffer }[];
  readonly transport: { readonly name: string; readonly writable: boolean; readonly socket?: { readonly bufferedAmount: number; terminate(): void } };
  close(discard: boolean): void;
}

/** How often every connection's queue is measured: what a sweep may let pile up is the publish rate × this. */
export const SWEEP_INTERVAL_MS = 200;

/** Sweeps a connection over the cap may go without its queue shrinking (nor growing) before it is cut: 1 s. */
export const STALL_SWEEPS = 5;

/**
 * The cap on what a connection that does not read may hold in the node's memory (MAX_BUFFERED_BYTES).
 * Nothing is added to the publish path: every {@link SWEEP_INTERVAL_MS} one pass over the node's connections
 * reads each one's unsent bytes — only for connections whose transport is not writable or whose write
 * buffer holds packets (a profile of 5,000 connections under fan-out put the full count at about 1 % of a
 * core; the usual connection, writable with nothing queued, is two property reads). A connection over the cap is cut
 * when its queue grew since the previous sweep (more is sent to it than it reads: a client that stopped
 * reading is cut within two sweeps of passing the cap), or when it has not shrunk for {@link STALL_SWEEPS}
 * sweeps; a client that keeps draining a burst bigger than the cap (a recovery replay) is left alone. The cut
 * is at the TCP level: the queued bytes are freed at once, and the client sees a transport close, reconnects
 * by itself and gets what it missed through connection-state recovery (a Socket.IO disconnect would wait
 * behind the queue, and stop the client).
 */
export class OutboundBufferCap {
  private readonly timer: ReturnType<typeof setInterval>;
  /** Each connection over the cap at the last sweep (few: only those): its unsent bytes then, and since when it has not shrunk. */
  private overCap = new Map<string, { readonly queued: number; readonly stalledSweeps: number }>();

  constructor(
    private readonly io: GatewayServer,
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    const connections = connectionsOf(this.io);
    const stillOver = new Map<string, { readonly queued: number; readonly stalledSweeps: number }>();
    for (const id in connections) {
      const connection = connections[id]!;
      // Writable with nothing waiting: its last write reached the kernel (engine.io marks the transport
      // writable again only then), so nothing piles up here — skip the byte count (most connections, most sweeps).
      if (connection.transport.writable && connection.writeBuffer.length === 0) continue;
      const queued = unsentBytes(connection);
      if (queued <= this.maxBytes) continue;
      const before = this.overCap.get(id);
      const stalledSweeps = before === undefined || queued < before.queued ? 0 : before.stalledSweeps + 1;
      if (before === undefined || (queued <= before.queued && stalledSweeps < STALL_SWEEPS)) {
        stillOver.set(id, { queued, stalledSweeps }); // just passed the cap, or draining: look again at the next sweep
        continue;
      }
      this.logger.warn({ connectionId: id, queuedBytes: queued, maxBufferedBytes: this.maxBytes, reason: 'slow-consumer' },
        'client not reading: outbound buffer over MAX_BUFFERED_BYTES; connection cut (the client reconnects and recovers)');
      cut(connection);
    }
    this.overCap = stillOver;
  }
}

/**
 * The bytes queued for `connection` and not yet handed to the kernel:
 * Engine.IO's write buffer (packets waiting for the transport: all of them on long-polling between polls)
 * plus, on WebSocket, the `ws` socket's `bufferedAmount`. String packets count their length (UTF-16 units,
 * about their bytes for JSON).
 */
export function unsentBytes(connection: Connection): number {
  let total = webSocketOf(connection)?.bufferedAmount ?? 0;
  for (const { data } of connection.writeBuffer) {
    total += typeof data === 'string' ? data.length : data === undefined ? 0 : data.byteLength;
  }
  return total;
}

/** Closes the connection without waiting for its queue: the TCP socket of a WebSocket is destroyed, a polling session discarded. */
function cut(connection: Connection): void {
  webSocketOf(connection)?.terminate();
  connection.close(true);
}

/** The `ws` socket under a WebSocket transport: the transport's `socket` field (engine.io 6). */
function webSocketOf({ transport }: Connection): Connection['transport']['socket'] {
  return transport.name === 'websocket' ? transport.socket : undefined;
}

/** Every Engine.IO connection of the node, by id: Engine.IO's `clients` table (protected in its types). */
function connectionsOf(io: GatewayServer): Record<string, Connection> {
  return (io.engine as unknown as { clients: Record<string, Connection> }).clients;
}
