import WebSocket from 'ws';

/** Called for every Socket.IO EVENT packet (`42[...]`) with the event name and its arguments. */
export type EventHandler = (event: string, args: readonly unknown[]) => void;

/** One connected client: Engine.IO open and Socket.IO CONNECT acknowledged (`40…` received). */
export interface EioConnection {
  readonly isOpen: () => boolean;
  /** Closes the WebSocket; resolves once it is closed (terminating it if the close handshake stalls). */
  readonly close: () => Promise<void>;
}

/**
 * A minimal Socket.IO v4 client over one raw `ws` WebSocket — a full socket.io-client per connection
 * would make the load generator the bottleneck. It speaks Engine.IO v4 text packets only: waits for the
 * open packet `0{…}`, sends CONNECT `40{"token":…}` for the default namespace, answers every ping `2` with
 * pong `3`, and hands `42[…]` events to `onEvent`. Binary packets, acks and namespaces are not supported.
 *
 * `headers` are added to the upgrade request (e.g. lib/browser-headers.ts); without them it carries only what
 * `ws` sends itself.
 *
 * Resolves on the CONNECT ack `40{…}`; rejects on `44{…}` (connect_error), an early close, or timeout.
 */
export function connectEio(
  url: string, token: string, onEvent: EventHandler, timeoutMs: number, headers?: Readonly<Record<string, string>>,
): Promise<EioConnection> {
  return new Promise((resolve, reject) => {
    // Socket.IO servers do not enable permessage-deflate by default; not offering it keeps clients light.
    // (A Sec-WebSocket-Extensions offer in `headers` is sent as is; `ws` fails the handshake should a
    // server accept it, since the client cannot inflate.)
    const ws = new WebSocket(url, {
      perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs, ...(headers === undefined ? {} : { headers }),
    });
    let connected = false;
    const fail = (reason: string) => {
      clearTimeout(timer);
      if (connected) return;
      ws.terminate();
      reject(new Error(reason));
    };
    const timer = setTimeout(() => fail(`no CONNECT ack within ${timeoutMs} ms`), timeoutMs);

    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      // With the default binaryType ('nodebuffer') every message arrives as one Buffer.
      const text = (raw as Buffer).toString();
      switch (text.charAt(0)) {
        case '0': // Engine.IO open
          ws.send(`40${JSON.stringify({ token })}`);
          return;
        case '2': // Engine.IO ping
          ws.send('3');
          return;
        case '4': // Engine.IO message carrying a Socket.IO packet
          onSocketIoPacket(text);
          return;
        default:
      }
    });
    ws.on('close', (code) => fail(`closed before CONNECT ack (code ${code})`));
    ws.on('error', (error) => fail(error.message));

    function onSocketIoPacket(text: string): void {
      const type = text.charAt(1);
      if (type === '2') {
        const packet: unknown = JSON.parse(text.slice(2));
        if (Array.isArray(packet) && typeof packet[0] === 'string') onEvent(packet[0], packet.slice(1));
      } else if (type === '0' && !connected) {
        connected = true;
        clearTimeout(timer);
        resolve({ isOpen: () => ws.readyState === WebSocket.OPEN, close: () => closeSocket(ws) });
      } else if (type === '4') {
        fail(`connect_error ${text.slice(2)}`);
      }
    }
  });
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), 2000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close();
  });
}
