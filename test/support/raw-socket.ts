import WebSocket from 'ws';
import { onCleanup } from './cleanup.js';

/** A raw Engine.IO v4 / Socket.IO v5 client over WebSocket, as an attacker writes one. */
export interface RawSocket {
  readonly ws: WebSocket;
  /** Every frame the server sent after the open packet, as text (pings are answered, not kept). */
  readonly frames: string[];
  /** Resolves with the close code and reason once the WebSocket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Sends each frame as it is (e.g. `40{"token":"…"}`, `42["event",1]`). */
  send(frames: readonly string[]): void;
}

/** Opens a {@link RawSocket} to `url` (with `headers` on the upgrade request) and waits for Engine.IO's open packet; closed after the test. */
export async function openRawSocket(url: string, headers: Record<string, string> = {}): Promise<RawSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { headers });
  onCleanup(() => ws.terminate());
  const frames: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('0')) resolve();
      else if (text === '2') ws.send('3');
      else frames.push(text);
    });
  });
  return { ws, frames, closed, send: (packets) => { for (const packet of packets) ws.send(packet); } };
}
