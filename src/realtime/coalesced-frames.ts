import { transports } from 'engine.io';

/**
 * engine.io's WebSocket transport flushes the packets queued for one connection one frame at a time, and
 * `ws` corks the TCP socket per frame only: each frame is its own write system call. When several packets
 * wait for one connection — a `POST /v1/batch`, a burst to a room, a recovery replay — the whole flush is
 * corked here, so the kernel gets them in one `writev` (`npm run bench`, phase f, counts the write system
 * calls per delivery). engine.io exports the transport class, not a hook: its `send` is wrapped once, and
 * what is read of it (`socket._socket`, the `ws` socket's TCP socket) is not in its types — a documented
 * boundary, checked by test/coalesced-frames.test.ts. Frames are written synchronously inside `send`
 * (per-message deflate is off), so the cork holds every one of them.
 */
interface WebSocketTransport {
  readonly socket?: { readonly _socket?: { cork(): void; uncork(): void } };
}
type Send = (this: WebSocketTransport, packets: readonly unknown[]) => void;

let installed = false;

/** Wraps the WebSocket transport's `send` (once per process). */
export function coalesceWebSocketFrames(): void {
  if (installed) return;
  installed = true;
  const prototype = (transports as unknown as { websocket: { prototype: { send: Send } } }).websocket.prototype;
  const send = prototype.send;
  prototype.send = function (this: WebSocketTransport, packets: readonly unknown[]): void {
    const tcp = this.socket?._socket;
    if (packets.length < 2 || tcp === undefined) {
      send.call(this, packets);
      return;
    }
    tcp.cork();
    try {
      send.call(this, packets);
    } finally {
      tcp.uncork();
    }
  };
}
