import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { isOffline, watchConnectivity } from './connectivity.js';
import { SwitchboardError, answerOrThrow, isErrorBody } from './errors.js';
import type { ChannelAck, DeliveryMeta, DirectMessageAck, HistoryAnswer, LogoutEvent, RelayMeta, RoomMembersAnswer, RoomsAck } from './protocol.js';
import { RecentIds } from './recent-ids.js';
import { RoomFeed, type Gap, type MessageHandler, type MessageMeta } from './room-feed.js';
import { TokenSource } from './token-source.js';

export type ClientState =
  | { readonly state: 'connecting' }
  | { readonly state: 'connected' }
  | { readonly state: 'reconnecting' }
  | { readonly state: 'refused'; readonly code: string; readonly reason?: string }
  | { readonly state: 'closed' };

export interface ClientOptions extends Partial<ManagerOptions & SocketOptions> {
  /** The gateway's URL (and namespace, as for `io()`). */
  readonly url: string;
  /** Answers a token for the handshake; called at start, before the token's `exp`, on `auth:expired`. */
  readonly getToken: () => Promise<string> | string;
  /** Seconds before a token's `exp` to fetch the next one. Default 30. */
  readonly refreshSkewS?: number;
  /** How long a request (`presence`, `send`, a join, a history read) waits for its ack. Default 10,000 ms. */
  readonly requestTimeoutMs?: number;
}

export interface Subscription {
  readonly room: string;
  /**
   * Settles once the room was first joined and the client knows where its history stands (from then on
   * nothing published to it is missed); rejects with the {@link SwitchboardError} when the gateway refused.
   */
  readonly ready: Promise<void>;
  unsubscribe(): void;
}

export interface Client {
  /** The socket.io-client socket underneath (for anything the client does not wrap). */
  readonly socket: Socket;
  readonly state: ClientState;
  /** Joins `room` (again after every reconnect) and calls `handler` with each of its messages, once and in order. */
  subscribe<T = unknown>(room: string, handler: MessageHandler<T>): Subscription;
  /**
   * Joins the channel of a signed join token (seed 001; `POST /v1/join-tokens`) and, with `handler`, calls it
   * with the channel's messages. After a reconnect that was not recovered it joins again with the same token,
   * so a token that expired by then ends in `gap` (`error`, `JOIN_TOKEN_EXPIRED`).
   */
  joinWithToken<T = unknown>(joinToken: string, handler?: MessageHandler<T>): Promise<Subscription>;
  /** The users in a room the client is in, each with how many of their sockets are there. */
  presence(room: string): Promise<RoomMembersAnswer['members']>;
  /** Relays a client event (`CLIENT_EVENTS`) to the room's other sockets; resolves when the gateway acked it. */
  send(room: string, event: string, data?: unknown): Promise<void>;
  readonly chat: {
    /** A direct message to every socket of user `to` (seed 004's single chat): its id, and whether one was online. */
    send(to: string, message: unknown): Promise<{ id: string; delivered: boolean }>;
  };
  on(event: 'state', handler: (state: ClientState) => void): () => void;
  on(event: 'gap', handler: (gap: Gap) => void): () => void;
  on(event: 'error', handler: (error: Error) => void): () => void;
  /** Every message of event `event`, once, whichever of the client's rooms it came through. */
  on<T = unknown>(event: string, handler: MessageHandler<T>): () => void;
  close(): void;
}

/** How a room came to be followed: subscribed, joined with a join token, or seen (the user's own rooms). */
interface Followed {
  readonly feed: RoomFeed;
  /** Joins the room again after a reconnect that was not recovered; none for rooms the gateway joins itself. */
  join: (() => Promise<unknown>) | undefined;
  joined: boolean;
  /** The connection a restore runs for: a newer connection starts its own. */
  restoring: number | undefined;
  firstJoin: { resolve: () => void; reject: (error: unknown) => void } | undefined;
}

const SEEN_EVENTS = 5000;
const MAX_TRANSIENT_RETRIES = 5;
/** Events the client consumes itself. */
const OWN_EVENTS = new Set(['switchboard:ready', 'auth:expired', 'auth:logout']);

/** A Switchboard client over socket.io-client: re-joins, fills gaps from history, refreshes tokens. */
export function createClient(options: ClientOptions): Client {
  const { url, getToken, refreshSkewS = 30, requestTimeoutMs = 10_000, ...socketOptions } = options;
  const followed = new Map<string, Followed>();
  const listeners = new Map<string, Set<(...args: never[]) => void>>();
  const seenEvents = new RecentIds(SEEN_EVENTS);
  let state: ClientState = { state: 'connecting' };
  let connection = 0;
  let retries = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Timers of joins tried again later: cleared by close(). */
  const laterTimers = new Set<ReturnType<typeof setTimeout>>();
  /** The socket's own rooms (`rooms`: user:, session:, role:); undefined until the gateway said (or if it cannot). */
  let ownRooms: Set<string> | undefined;
  /** While a join with a token is in flight, messages to rooms not followed yet are held here (the channel's first ones). */
  let holdingUnknown = 0;
  const held = new Set<Followed>();
  const minDelayMs = socketOptions.reconnectionDelay ?? 1000;
  const maxDelayMs = socketOptions.reconnectionDelayMax ?? 5000;
  const reconnection = socketOptions.reconnection ?? true;

  const tokens = new TokenSource(getToken, refreshSkewS, async (token) => {
    if (socket.connected) await request('auth:refresh', { token });
  }, report);

  const socket: Socket = io(url, {
    transports: ['websocket'],
    ...socketOptions,
    autoConnect: false,
    auth: (callback) => void tokens.forHandshake().then((token) => callback({ token }), (error: unknown) => {
      report(error);
      retryLater();
    }),
  });

  /** Closed, or refused for good: nothing reconnects any more. */
  const stopped = (): boolean => state.state === 'closed' || state.state === 'refused';
  function cancelRetry(): void {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
  }

  function emitLocal(event: string, ...args: unknown[]): void {
    for (const handler of listeners.get(event) ?? []) (handler as (...a: unknown[]) => void)(...args);
  }
  function setState(next: ClientState): void {
    state = next;
    emitLocal('state', next);
  }
  function report(error: unknown): void {
    emitLocal('error', error instanceof Error ? error : new Error(String(error)));
  }
  /** Every message to `on(event)` listeners once, whichever rooms it came through. */
  function toListeners(event: string, data: unknown, meta: MessageMeta): void {
    if (meta.id !== '' && !seenEvents.add(meta.id)) return;
    for (const handler of listeners.get(event) ?? []) (handler as MessageHandler)(data, meta);
  }

  /** An acked request; transient refusals are retried after their `retryAfterS`, final ones thrown. */
  async function request<T>(event: string, payload: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (stopped()) throw new Error(`the client is ${state.state}`);
      try {
        return answerOrThrow<T>(await socket.timeout(requestTimeoutMs).emitWithAck(event, payload));
      } catch (error) {
        if (!(error instanceof SwitchboardError && error.transient) || attempt >= MAX_TRANSIENT_RETRIES) throw error;
        await sleep(jitter((error.retryAfterS ?? 1) * 1000));
      }
    }
  }

  /** Reconnects after a backoff (with jitter) when socket.io-client would not: refusals it takes as final, failed getToken. */
  function retryLater(atLeastMs = 0): void {
    if (stopped() || !reconnection) return;
    socket.disconnect();
    cancelRetry();
    if (isOffline()) return; // `online` reconnects
    const delayMs = jitter(Math.max(atLeastMs, Math.min(maxDelayMs, minDelayMs * 2 ** retries++)));
    retryTimer = setTimeout(() => { retryTimer = undefined; socket.connect(); }, delayMs);
  }

  function reconnectNow(): void {
    if (stopped() || isOffline() || socket.connected) return;
    cancelRetry();
    socket.disconnect();
    socket.connect();
  }

  function follow(room: string, join: (() => Promise<unknown>) | undefined, joined = join === undefined): Followed {
    const existing = followed.get(room);
    if (existing !== undefined) {
      if (existing.join === undefined && join !== undefined) {
        existing.join = join;
        existing.joined = joined;
      }
      return existing;
    }
    const entry: Followed = { feed: new RoomFeed(room, toListeners, (gap) => emitLocal('gap', gap)), join, joined, restoring: undefined, firstJoin: undefined };
    followed.set(room, entry);
    return entry;
  }

  /** Joins the room if it has to, then (when paused by a reconnect) reads what it missed from history. */
  async function restore(entry: Followed): Promise<void> {
    const mine = connection;
    if (entry.restoring === mine) return;
    entry.restoring = mine;
    const { feed } = entry;
    const current = () => mine === connection && socket.connected;
    try {
      if (!entry.joined && entry.join !== undefined) {
        await entry.join();
        if (!current()) return;
        entry.joined = true;
      }
      if (feed.place === undefined && feed.floor === undefined) {
        await markFloor(feed);
        if (!current()) return;
      }
      entry.firstJoin?.resolve();
      entry.firstJoin = undefined;
      const asked = feed.place ?? feed.floor;
      if (!feed.paused) return;
      if (asked === undefined) return feed.resume();
      const answer = await request<HistoryAnswer>('history', { room: feed.room, since: asked.offset, ...(asked.epoch === '' ? {} : { epoch: asked.epoch }) });
      if (!current()) return;
      const gap = feed.fill(answer, asked);
      if (gap !== undefined) emitLocal('gap', gap);
    } catch (error) {
      if (!current()) return; // cut short by a disconnect: the next connection restores again
      const final = error instanceof SwitchboardError && !error.transient;
      if (final && entry.join === undefined && feed.handlers.size === 0) { followed.delete(feed.room); return; } // a room left behind
      report(error);
      if (!final && (!entry.joined || (feed.place ?? feed.floor) === undefined || feed.paused)) {
        // A join or read that timed out or stayed refused for a while: try again later, live messages still
        // held and `ready` still pending.
        const retry = setTimeout(() => {
          laterTimers.delete(retry);
          if (followed.get(feed.room) === entry && socket.connected) void restore(entry);
        }, jitter(maxDelayMs));
        laterTimers.add(retry);
        return;
      }
      entry.firstJoin?.reject(error);
      entry.firstJoin = undefined;
      if (feed.paused) {
        emitLocal('gap', { room: feed.room, reason: 'error', ...(error instanceof SwitchboardError ? { code: error.code } : {}) } satisfies Gap);
        feed.resume();
      }
    } finally {
      if (entry.restoring === mine) entry.restoring = undefined;
    }
  }

  /**
   * Reads where the room's history stands (a read after the largest offset answers no messages), so that what
   * is published while the client is away before the room's first message can be read back. Without history
   * (HISTORY_SIZE=0) there is nothing to read back: no floor.
   */
  async function markFloor(feed: RoomFeed): Promise<void> {
    try {
      const answer = await request<HistoryAnswer>('history', { room: feed.room, since: Number.MAX_SAFE_INTEGER });
      feed.floor ??= { epoch: answer.epoch ?? '', offset: answer.epoch === null ? 0 : answer.offset };
    } catch (error) {
      if (!(error instanceof SwitchboardError && error.code === 'NOT_FOUND')) throw error;
    }
  }

  /**
   * The entry for a room a message came through that the client does not follow yet: one of its own rooms
   * (followed from then on), a room held while a join with a token is in flight, or — against a gateway that
   * does not answer `rooms` — any room. Other rooms (another user's, in a publish to several) are not followed.
   */
  function adopt(room: string): Followed | undefined {
    if (holdingUnknown > 0 && !(ownRooms?.has(room) ?? false)) {
      const entry = follow(room, undefined);
      entry.feed.pause();
      held.add(entry);
      return entry;
    }
    return ownRooms === undefined || ownRooms.has(room) ? follow(room, undefined) : undefined;
  }

  /** Learns the socket's own rooms and follows them, so what is published to them while away is read back. */
  async function followOwnRooms(): Promise<void> {
    const mine = connection;
    try {
      const { own } = await request<RoomsAck>('rooms', null);
      if (mine !== connection) return;
      ownRooms = new Set(own);
      for (const room of own) {
        const entry = follow(room, undefined);
        if (entry.feed.place === undefined && entry.feed.floor === undefined) void restore(entry);
      }
    } catch (error) {
      if (!(error instanceof SwitchboardError && error.code === 'EVENT_UNKNOWN')) report(error); // an older gateway: rooms are adopted as messages come
    }
  }

  socket.onAny((event: string, data: unknown, second: unknown) => {
    if (OWN_EVENTS.has(event)) return;
    if (isDeliveryMeta(second)) {
      let routed = false;
      for (const [room, place] of Object.entries(second.history ?? {})) {
        const entry = followed.get(room) ?? adopt(room);
        if (entry === undefined) continue;
        entry.feed.receive(event, data, second.id, place);
        routed = true;
      }
      if (!routed) toListeners(event, data, { id: second.id, room: undefined, offset: undefined, epoch: undefined });
    } else if (isRelayMeta(second)) {
      toListeners(event, data, { id: '', room: second.room, offset: undefined, epoch: undefined, from: second.from });
    } else toListeners(event, data, { id: '', room: undefined, offset: undefined, epoch: undefined });
  });
  socket.on('connect', () => {
    connection += 1;
    retries = 0;
    setState({ state: 'connected' });
    const recovered = socket.recovered;
    for (const entry of followed.values()) {
      if (!recovered) {
        if (entry.join !== undefined) entry.joined = false;
        if ((entry.feed.place ?? entry.feed.floor) !== undefined) entry.feed.pause(); // else nothing to read back from
      }
      if (!entry.joined || entry.feed.paused) void restore(entry);
    }
    if (!recovered || ownRooms === undefined) void followOwnRooms();
  });
  socket.on('disconnect', (reason) => {
    if (stopped()) return;
    setState({ state: 'reconnecting' });
    if (isOffline()) setTimeout(pauseWhileOffline); // once socket.io-client has scheduled its attempt
    // The gateway closed the connection itself (token expired past its grace, an operator's disconnect):
    // socket.io-client does not reconnect from that on its own.
    if (reason === 'io server disconnect') {
      tokens.forget();
      retryLater();
    }
  });
  socket.on('connect_error', (error: Error & { data?: unknown }) => {
    if (!isErrorBody(error.data)) {
      // The network: socket.io-client retries by itself; a refusal without the catalog's body (another server
      // or a proxy answered) stopped it: try again later.
      if (!socket.active) retryLater();
      return;
    }
    const { code, retryAfterS } = error.data;
    if (code === 'TOKEN_EXPIRED') {
      tokens.forget();
      retryLater();
    } else if (retryAfterS !== undefined) retryLater(retryAfterS * 1000);
    else stop({ state: 'refused', code });
  });
  socket.on('auth:expired', () => void tokens.renew());
  socket.on('auth:logout', (event: LogoutEvent) => stop({ state: 'refused', code: 'SESSION_REVOKED', reason: event.reason }));

  // Offline, attempts would fail: none until `online` or the page is visible again. socket.disconnect() stops
  // the Manager's attempts (`reconnection(false)` would not: it leaves a pending one, and turned back on it
  // no longer reconnects a connection that lived through the offline spell).
  function pauseWhileOffline(): void {
    cancelRetry();
    if (!socket.connected) socket.disconnect();
  }
  const stopWatching = watchConnectivity(pauseWhileOffline, reconnectNow);

  function stop(next: ClientState): void {
    if (stopped()) return;
    tokens.stop();
    stopWatching();
    cancelRetry();
    for (const timer of laterTimers) clearTimeout(timer);
    laterTimers.clear();
    state = next; // before close(): its 'disconnect' must not read as a reconnect
    socket.close();
    emitLocal('state', next);
  }

  /** Hands over what was held while joins with tokens were in flight; rooms nobody follows are dropped after. */
  function releaseHeld(): void {
    for (const entry of held) {
      entry.feed.resume();
      const room = entry.feed.room;
      if (entry.join === undefined && entry.feed.handlers.size === 0 && !(ownRooms?.has(room) ?? false) && followed.get(room) === entry) followed.delete(room);
    }
    held.clear();
  }

  function subscribeTo<T>(room: string, join: () => Promise<unknown>, leave: () => void, handler: MessageHandler<T> | undefined, joined = false): Subscription {
    const entry = follow(room, join, joined);
    if (handler !== undefined) entry.feed.handlers.add(handler as MessageHandler);
    const positioned = entry.joined && (entry.feed.place ?? entry.feed.floor) !== undefined;
    const ready = positioned ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      const previous = entry.firstJoin;
      entry.firstJoin = {
        resolve: () => { previous?.resolve(); resolve(); },
        reject: (error) => { previous?.reject(error); reject(error); },
      };
    });
    ready.catch(() => undefined); // also reported as `error`: a caller that ignores `ready` leaves no unhandled rejection
    if (socket.connected) void restore(entry);
    return {
      room,
      ready,
      unsubscribe() {
        if (handler !== undefined) entry.feed.handlers.delete(handler as MessageHandler);
        if (entry.feed.handlers.size > 0 || followed.get(room) !== entry) return;
        followed.delete(room);
        leave(); // while disconnected socket.io-client sends it on reconnect: a recovered session must not keep the room
      },
    };
  }

  // Told once the caller had the chance to listen (the state itself is `client.state` from the start).
  queueMicrotask(() => { if (state.state === 'connecting') emitLocal('state', state); });
  socket.connect();

  return {
    socket,
    get state() { return state; },
    subscribe(room, handler) {
      return subscribeTo(room, () => request('room/join-room', room), () => socket.emit('room/leave-room', room), handler);
    },
    async joinWithToken(joinToken, handler) {
      // The token names the channel: join first. Messages the channel sends before the ack are held, then
      // handed to `handler` once it is attached.
      holdingUnknown += 1;
      let subscription: Subscription | undefined;
      try {
        const { channel } = await request<ChannelAck>('join', joinToken);
        subscription = subscribeTo(channel, () => request('join', joinToken), () => socket.emit('leave', channel), handler, true);
      } finally {
        holdingUnknown -= 1;
        if (holdingUnknown === 0) releaseHeld();
      }
      await subscription.ready;
      return subscription;
    },
    async presence(room) {
      return (await request<RoomMembersAnswer>('room/members', room)).members;
    },
    async send(room, event, data) {
      await request(event, { room, data });
    },
    chat: {
      async send(to, message) {
        const { id, delivered } = await request<DirectMessageAck>('single-chat/send-message', { to, message });
        return { id, delivered };
      },
    },
    on(event: string, handler: (...args: never[]) => void) {
      const set = listeners.get(event) ?? new Set();
      set.add(handler);
      listeners.set(event, set);
      return () => void set.delete(handler);
    },
    close() { stop({ state: 'closed' }); },
  } as Client;
}

function isDeliveryMeta(value: unknown): value is DeliveryMeta {
  return typeof value === 'object' && value !== null && typeof (value as DeliveryMeta).id === 'string';
}

function isRelayMeta(value: unknown): value is RelayMeta {
  return typeof value === 'object' && value !== null && typeof (value as RelayMeta).from === 'string' && typeof (value as RelayMeta).room === 'string';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `ms` spread over ±50 %, so clients refused together do not come back together. */
function jitter(ms: number): number {
  return ms * (0.5 + Math.random());
}
