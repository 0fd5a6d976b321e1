import type { Socket } from 'socket.io-client';
import { openClient, TEST_API_KEY } from './gateway.js';
import { waitFor } from './wait.js';

/**
 * The failure drills' traffic (issue 11's outages, Redis Sentinel and Cluster failovers): stock socket.io-client v4
 * clients in `news:{n}` rooms, and a backend publishing `news` events to the rooms through several nodes
 * all along, every answer recorded.
 */

/** One stock client and what it went through. */
export interface NewsClient {
  readonly socket: Socket;
  readonly user: string;
  readonly room: string;
  /** The message ids of every `news` event it received. */
  readonly news: string[];
  readonly connectErrors: string[];
  /** `socket.recovered` at each connect. */
  readonly connects: boolean[];
  reconnectAttempts: number;
  /** The socket id under which it is in its room (a recovered socket keeps its rooms). */
  joinedAs: string | undefined;
  /**
   * Since when it has been in its room without a break: when it last got its join acknowledged (a
   * recovered connection keeps the earlier time, a fresh one starts again).
   */
  subscribedSince: number | undefined;
  readonly joinFailures: string[];
}

/**
 * A stock socket.io-client v4 with default options but `auth` (and `forceNew`: one connection per client),
 * written as an application would: when it connects without its state recovered, it joins its room.
 */
export function stockNewsClient(url: string, user: string, room: string, auth: Record<string, string>): NewsClient {
  const socket = openClient(url, { transports: ['polling', 'websocket'], reconnection: true, auth });
  const client: NewsClient = {
    socket, user, room, news: [], connectErrors: [], connects: [], reconnectAttempts: 0, joinedAs: undefined, subscribedSince: undefined, joinFailures: [],
  };
  socket.on('news', (_data: unknown, meta: { id: string }) => void client.news.push(meta.id));
  socket.on('connect_error', (error: Error & { data?: { code: string } }) => void client.connectErrors.push(error.data?.code ?? error.message));
  socket.io.on('reconnect_attempt', () => void (client.reconnectAttempts += 1));
  socket.on('connect', () => {
    client.connects.push(socket.recovered);
    if (socket.recovered && client.joinedAs !== undefined) {
      client.joinedAs = socket.id;
      return;
    }
    const id = socket.id;
    socket.emitWithAck('room/join-room', room).then(
      (answer: { ok?: boolean; error?: { code: string } }) => {
        if (answer.ok !== true) client.joinFailures.push(answer.error?.code ?? JSON.stringify(answer));
        else if (socket.id === id) {
          client.joinedAs = id;
          client.subscribedSince = Date.now();
        }
      },
      (error: Error) => void client.joinFailures.push(error.message),
    );
  });
  return client;
}

/** Connected, and in its room under its current socket id. */
export function isSubscribed(client: NewsClient): boolean {
  return client.socket.connected && client.joinedAs === client.socket.id;
}

/** A publish and its answer (`status` 0: no answer within 10 s). */
export interface Published {
  readonly sentAt: number;
  readonly status: number;
  readonly id: string | undefined;
  /** The room it went to, or the user (one of the two). */
  readonly room: string | undefined;
  readonly user: string | undefined;
  /** The answer's `Retry-After` header (`null`: none). */
  readonly retryAfter: string | null;
  /** The catalog code of a refusal (`error.code` of the body). */
  readonly code: string | undefined;
  /** The room history's `epoch:offset` of an accepted publish to one room (with history on). */
  readonly place: string | undefined;
}

/** `POST /v1/publish` of a `news` event to `target` (one room, or one user), answered within 10 s or recorded as status 0. */
export async function publishNews(url: string, target: { rooms: [string] } | { users: [string] }): Promise<Published> {
  const sentAt = Date.now();
  const room = 'rooms' in target ? target.rooms[0] : undefined;
  const user = 'users' in target ? target.users[0] : undefined;
  try {
    const response = await fetch(`${url}/v1/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'news', data: target, ...target }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => ({}))) as { id?: string; error?: { code?: string }; epoch?: string; offset?: number };
    const place = body.epoch === undefined ? undefined : `${body.epoch}:${body.offset}`;
    return { sentAt, status: response.status, id: body.id, room, user, retryAfter: response.headers.get('retry-after'), code: body.error?.code, place };
  } catch {
    return { sentAt, status: 0, id: undefined, room, user, retryAfter: null, code: undefined, place: undefined };
  }
}

/**
 * A backend publishing to `news:0` … `news:{rooms - 1}` in turn, through `urls` in turn, every `everyMs`
 * whether or not the last one answered; each answer is pushed to `published`.
 */
export function steadyRoomTraffic(urls: readonly string[], rooms: number, published: Published[], everyMs = 50): { stop(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  let n = 0;
  const timer = setInterval(() => {
    const request = publishNews(urls[n % urls.length]!, { rooms: [`news:${n % rooms}`] }).then((answer) => void published.push(answer));
    n += 1;
    pending.add(request);
    void request.finally(() => pending.delete(request));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
    },
  };
}

/** Whether an answer is 2xx, or a catalog refusal (503 with Retry-After and a catalog code): the two a drill allows. */
export function isAllowedAnswer(p: Published, catalogCodes: ReadonlySet<string>): boolean {
  return (p.status >= 200 && p.status < 300) || (p.status === 503 && p.retryAfter !== null && p.code !== undefined && catalogCodes.has(p.code));
}

/** The ids of `from` that `client` must have received: to its room, since it has been in the room without a break. */
export function requiredNews(client: NewsClient, from: readonly Published[]): string[] {
  return from.filter((p) => p.room === client.room && client.subscribedSince !== undefined && p.sentAt >= client.subscribedSince).map((p) => p.id!);
}

/**
 * Waits (up to 5 s) for every client to have what it must of `mustArrive`, then answers each client that
 * lacks some of it (`lost`), got a message twice (`duplicated`), or got one that was never accepted for
 * its room (`unexpected`, against every `accepted` publish).
 */
export async function wrongDeliveries(clients: readonly NewsClient[], accepted: readonly Published[], mustArrive: readonly Published[]) {
  const complete = (client: NewsClient) => requiredNews(client, mustArrive).every((id) => client.news.includes(id));
  await waitFor(() => clients.every(complete), { timeoutMs: 5000 }).catch(() => undefined); // what is missing is answered
  return clients.flatMap((client) => {
    const allowed = new Set(accepted.filter((p) => p.room === client.room).map((p) => p.id));
    const lost = requiredNews(client, mustArrive).filter((id) => !client.news.includes(id));
    const duplicated = client.news.filter((id, at) => client.news.indexOf(id) !== at);
    const unexpected = client.news.filter((id) => !allowed.has(id));
    return lost.length + duplicated.length + unexpected.length === 0 ? [] : [{ user: client.user, lost, duplicated, unexpected }];
  });
}

/** How many publishes were refused, and from when to when, in ms after `since` (e.g. a kill). */
export function refusalWindow(refusals: readonly Published[], since: number) {
  return {
    refusals: refusals.length,
    refusedFromMs: refusals.length === 0 ? null : Math.min(...refusals.map((p) => p.sentAt)) - since,
    refusedUntilMs: refusals.length === 0 ? null : Math.max(...refusals.map((p) => p.sentAt)) - since,
  };
}

/** The publishes of `from` that some client in their room since before them never received. */
export function undelivered(from: readonly Published[], clients: readonly NewsClient[]): Published[] {
  return from.filter((p) => clients.some((client) => client.room === p.room && client.subscribedSince! <= p.sentAt && !client.news.includes(p.id!)));
}
