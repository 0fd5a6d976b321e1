import { Socket as EngineSocket } from 'engine.io';

/**
 * A broadcast reaches each WebSocket connection through five layers (socket.io's client, engine.io's
 * socket and transport, `ws`'s sender, the TCP socket), each with its own bookkeeping: a packet object,
 * `packetCreate`/`flush`/`drain` events on the socket and on the server, a corked two-part write, and on
 * completion three more events. For a connection that is idle — nothing queued, WebSocket open, no
 * compression — that is all ceremony: socket.io-adapter already encoded the packet once per broadcast as a
 * finished WebSocket frame (`wsPreEncodedFrame`). Such a frame is written here straight to the TCP socket,
 * in one buffer, with engine.io's own "not writable until this write completes" rule kept, so packets sent
 * meanwhile (a burst, a batch, a ping) queue in engine.io as before and are flushed together, in order,
 * when the write completes (`coalesced-frames.ts` then writes them in one system call). Anything else — a
 * busy or closing connection, long-polling, an ack callback, a compressed or binary packet — takes
 * engine.io's path unchanged.
 *
 * About a quarter of the server's CPU per delivery in a fan-out profile was the layers skipped here
 * (`npm run bench`, phase a; docs/benchmarks.md). engine.io exports its socket class, not a hook: its
 * `write` is wrapped once, and what is read of engine.io's and ws's internals (the transport's `writable`
 * and `socket`, ws's `_socket`, `_sender._state`, `_sender._queue`) is not in their types — a documented
 * boundary, checked by test/broadcast-frames.test.ts, which fails if a library update renames them.
 */

interface TcpSocket {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
}
interface WsSender {
  readonly _state?: number;
  readonly _queue?: readonly unknown[];
}
interface WsSocket {
  readonly readyState: number;
  readonly _socket?: TcpSocket;
  readonly _sender?: WsSender;
}
interface EngineTransport {
  readonly name: string;
  writable: boolean;
  readonly perMessageDeflate?: unknown;
  readonly socket?: WsSocket;
  onError(message: string, description?: string): void;
}
interface EngineSocketInternals {
  readonly readyState: string;
  readonly upgrading: boolean;
  readonly transport: EngineTransport;
  readonly writeBuffer: readonly unknown[];
  flush(): void;
}
interface PacketOptions {
  readonly wsPreEncodedFrame?: readonly Buffer[];
  [JOINED]?: Buffer;
}
type Write = (this: EngineSocketInternals, data: unknown, options?: unknown, callback?: unknown) => unknown;

/** The frame's parts joined once per broadcast (the options object is shared by every recipient). */
const JOINED = Symbol('switchboard.joinedFrame');
/** ws's `WebSocket.OPEN` and its sender's idle state (`DEFAULT`: not deflating, not reading a Blob). */
const WS_OPEN = 1;
const SENDER_IDLE = 0;

/** The write callback of each transport, made once per transport (a closure per write would be garbage per delivery). */
const completions = new WeakMap<EngineTransport, (error?: Error | null) => void>();

let installed = false;

/** Wraps engine.io's `Socket.prototype.write` (once per process). */
export function writeBroadcastFramesDirectly(): void {
  if (installed) return;
  installed = true;
  const prototype = (EngineSocket as unknown as { prototype: { write: Write } }).prototype;
  const write = prototype.write;
  prototype.write = function (this: EngineSocketInternals, data: unknown, options?: unknown, callback?: unknown): unknown {
    const frame = callback === undefined ? preEncoded(options) : undefined;
    const tcp = frame === undefined ? undefined : idleWebSocket(this);
    if (frame === undefined || tcp === undefined) return write.call(this, data, options, callback);
    const transport = this.transport;
    transport.writable = false;
    tcp.write(joined(options as PacketOptions, frame), completionOf(this, transport));
    return this;
  };
}

function preEncoded(options: unknown): readonly Buffer[] | undefined {
  return typeof options === 'object' && options !== null ? (options as PacketOptions).wsPreEncodedFrame : undefined;
}

/** The TCP socket of `socket`'s WebSocket when a frame may be written to it now, in order; else undefined. */
function idleWebSocket(socket: EngineSocketInternals): TcpSocket | undefined {
  const transport = socket.transport;
  if (socket.readyState !== 'open' || socket.upgrading || socket.writeBuffer.length > 0) return undefined;
  if (transport.name !== 'websocket' || !transport.writable || transport.perMessageDeflate) return undefined;
  const ws = transport.socket;
  const sender = ws?._sender;
  if (ws === undefined || ws.readyState !== WS_OPEN || sender === undefined) return undefined;
  if (sender._state !== SENDER_IDLE || sender._queue === undefined || sender._queue.length > 0) return undefined;
  return ws._socket;
}

function joined(options: PacketOptions, frame: readonly Buffer[]): Buffer {
  let buffer = options[JOINED];
  if (buffer === undefined) {
    buffer = frame.length === 1 ? frame[0]! : Buffer.concat(frame);
    options[JOINED] = buffer;
  }
  return buffer;
}

/**
 * What engine.io's WebSocket transport does when a write completes, minus its events: writable again, and
 * whatever queued meanwhile is flushed; a write error closes the transport as engine.io would.
 */
function completionOf(socket: EngineSocketInternals, transport: EngineTransport): (error?: Error | null) => void {
  let done = completions.get(transport);
  if (done === undefined) {
    done = (error) => {
      if (error) {
        transport.onError('write error', error.stack);
        return;
      }
      transport.writable = true;
      if (socket.transport === transport) socket.flush();
    };
    completions.set(transport, done);
  }
  return done;
}
