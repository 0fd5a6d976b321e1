import WebSocket from 'ws';
import { hostileFrames, type Frame } from './fuzz-corpus.js';

/**
 * Sends hostile frames to a gateway as raw Engine.IO clients over WebSocket and long-polling, with and
 * without an accepted Socket.IO CONNECT first. Shared by test/hostile-input.test.ts and `npm run fuzz`.
 * No vitest in here.
 */

export interface FeedOptions {
  /** A valid token: connections that authenticate send `40{"token":…}` and wait for the answer first. */
  readonly token: string;
  /** Frames generated in all (the corpus is generated batch by batch, never held whole). */
  readonly packets: number;
  /** Frames per connection. */
  readonly batch: number;
  /** Connections open at once. */
  readonly concurrency: number;
  /** fast-check seed of the first batch (batch i uses seed + i). */
  readonly seed: number;
  /** Called after each batch with the frames sent so far. */
  readonly progress?: (sent: number) => void;
}

export interface FeedResult {
  /** Frames written to a connection that was open when they were written. */
  sent: number;
  connections: number;
}

type Transport = 'websocket' | 'polling';

/** Feeds `packets` generated frames, alternating transports and authenticated/unauthenticated connections. */
export async function feedCorpus(url: string, options: FeedOptions): Promise<FeedResult> {
  const result: FeedResult = { sent: 0, connections: 0 };
  const batches = Math.ceil(options.packets / options.batch);
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      const index = next;
      next += 1;
      // Every combination in turn: transport (bit 0), authenticated or not (bit 1), which mix (bit 2).
      const transport: Transport = index % 2 === 0 ? 'websocket' : 'polling';
      const token = index % 4 < 2 ? options.token : undefined;
      const frames = hostileFrames(Math.min(options.batch, options.packets - index * options.batch), options.seed + index, index % 8 < 4 ? 'random' : 'events');
      // Awaited first: `result.sent += await …` would read the total before the wait and lose other workers' counts.
      const sent = await feed(url, transport, frames, token);
      result.sent += sent;
      result.connections += 1;
      options.progress?.(result.sent);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return result;
}

/** Opens one connection on `transport`, authenticates with `token` if given, sends `frames`, closes; answers how many were sent. */
export function feed(url: string, transport: Transport, frames: readonly Frame[], token?: string): Promise<number> {
  return transport === 'websocket' ? feedWebSocket(url, frames, token) : feedPolling(url, frames, token);
}

async function feedWebSocket(url: string, frames: readonly Frame[], token: string | undefined): Promise<number> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.on('error', () => undefined);
  const ready = new Promise<boolean>((resolve) => {
    ws.on('message', (data) => {
      const message = String(data);
      if (message === '2') ws.send('3');
      else if (message.startsWith('0') && token === undefined) resolve(true);
      else if (message.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
      else if (message.startsWith('40') || message.startsWith('44')) resolve(true);
    });
    ws.once('close', () => resolve(false));
  });
  let sent = 0;
  if (await ready) {
    for (const frame of frames) {
      if (ws.readyState !== WebSocket.OPEN) break;
      ws.send(frame.data, { binary: frame.kind === 'binary' });
      sent += 1;
    }
    // The close frame follows the data: the server reads every frame before it (unless it closed first).
    ws.close();
  }
  await closed;
  return sent;
}

const SEPARATOR = Buffer.from([0x1e]);

/** The bytes of one packet in a long-polling payload (binary packets as `b<base64>`). */
function pollingPacket(frame: Frame): Buffer {
  if (frame.kind === 'binary') return Buffer.from(`b${frame.data.toString('base64')}`);
  return typeof frame.data === 'string' ? Buffer.from(frame.data) : frame.data;
}

async function feedPolling(url: string, frames: readonly Frame[], token: string | undefined): Promise<number> {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const opened = await fetch(base);
  const body = await opened.text();
  if (opened.status !== 200 || !body.startsWith('0')) return 0;
  const session = `${base}&sid=${(JSON.parse(body.slice(1)) as { sid: string }).sid}`;
  const post = async (data: Buffer | string) => {
    const response = await fetch(session, { method: 'POST', body: data, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
    await response.arrayBuffer();
    return response.status === 200;
  };
  let sent = 0;
  if (token === undefined || ((await post(`40${JSON.stringify({ token })}`)) && (await (await fetch(session)).text()).startsWith('4'))) {
    // One payload per 100 packets: the packets of a payload are all decoded before the first is handled.
    for (let i = 0; i < frames.length; i += 100) {
      const chunk = frames.slice(i, i + 100);
      const payload = Buffer.concat(chunk.flatMap((frame, j) => (j === 0 ? [pollingPacket(frame)] : [SEPARATOR, pollingPacket(frame)])));
      if (!(await post(payload))) break;
      sent += chunk.length;
    }
  }
  await post('1').catch(() => false);
  return sent;
}
