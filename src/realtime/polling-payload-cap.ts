import { Socket as EngineSocket } from 'engine.io';

/**
 * The most packets one long-polling answer carries. engine.io answers a poll with every packet queued for
 * the connection, and a burst (a `POST /v1/batch`, a recovery replay) can queue hundreds; python-engineio,
 * the transport of python-socketio, refuses a payload of more than 16 packets ("Too many packets in
 * payload", its `max_decode_packets`) and drops all of them — a Python client on long-polling lost 99 of a
 * batch of 100. So a poll is answered with at most this many; the rest wait, in order, for the client's next
 * poll, which it sends at once. socket.io-client and WebSocket connections are not affected. A server-side
 * close (a logout, an expired token) still answers with everything queued, as engine.io must to close
 * cleanly: a Python client on long-polling can miss what a burst queued just before it.
 */
export const MAX_PACKETS_PER_POLL = 16;

interface EngineSocketInternals {
  readonly readyState: string;
  readonly transport: { readonly name: string; readonly writable: boolean };
  writeBuffer: unknown[];
  readonly packetsFn: readonly unknown[];
}
type Flush = (this: EngineSocketInternals) => void;

let installed = false;

/**
 * Wraps engine.io's `Socket.prototype.flush` (once per process): a polling transport about to answer with
 * more than {@link MAX_PACKETS_PER_POLL} packets gets the first ones; the others stay at the front of the
 * write buffer. engine.io exports its socket class, not a hook, and `writeBuffer` is not in its types — a
 * documented boundary, checked by test/polling-payload-cap.test.ts.
 */
export function capPollingPayloads(): void {
  if (installed) return;
  installed = true;
  const prototype = (EngineSocket as unknown as { prototype: { flush: Flush } }).prototype;
  const flush = prototype.flush;
  prototype.flush = function (this: EngineSocketInternals): void {
    const queued = this.writeBuffer;
    // Not while closing: engine.io closes once one answer has drained, and with the rest held back that
    // would drop it (the DISCONNECT packet included). Nor with send callbacks queued: engine.io would call
    // those of held packets when the first answer drains (Socket.IO passes none).
    if (queued.length <= MAX_PACKETS_PER_POLL || this.transport.name !== 'polling' || !this.transport.writable || this.readyState !== 'open' || this.packetsFn.length > 0) {
      flush.call(this);
      return;
    }
    this.writeBuffer = queued.slice(0, MAX_PACKETS_PER_POLL);
    flush.call(this);
    // Whatever was queued while that answer was written comes after what was already waiting.
    this.writeBuffer = queued.slice(MAX_PACKETS_PER_POLL).concat(this.writeBuffer);
  };
}
