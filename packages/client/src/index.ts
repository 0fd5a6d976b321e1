import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

/** Where a published message sits in one room's history. */
export interface HistoryPlace { readonly epoch: string; readonly offset: number }
/** What a handler learns about a message besides its data. */
export interface MessageMeta { readonly id: string; readonly room: string | undefined; readonly offset: number | undefined; readonly epoch: string | undefined }
export type MessageHandler = (data: unknown, meta: MessageMeta) => void;
export type ClientState =
  | { readonly state: 'connecting' } | { readonly state: 'connected' } | { readonly state: 'reconnecting' }
  | { readonly state: 'refused'; readonly code: string } | { readonly state: 'closed' };
export interface Gap { readonly room: string; readonly reason: 'epoch' | 'trimmed' | 'error' }

export interface ClientOptions extends Partial<ManagerOptions & SocketOptions> {
  readonly url: string;
  readonly getToken: () => Promise<string> | string;
  /** Seconds before a token's `exp` to fetch the next one. Default 30. */
  readonly refreshSkewS?: number;
}

export interface Subscription { unsubscribe(): void }

export interface Client {
  subscribe(room: string, handler: MessageHandler): Subscription;
  on(event: 'state', handler: (state: ClientState) => void): () => void;
  on(event: 'gap', handler: (gap: Gap) => void): () => void;
  on(event: string, handler: MessageHandler): () => void;
  readonly socket: Socket;
  close(): void;
}

interface Envelope { readonly id?: unknown; readonly history?: Record<string, HistoryPlace> }
interface HistoryPage { readonly recovered?: boolean; readonly epoch?: string; readonly messages?: readonly { readonly id?: string; readonly offset: number; readonly event?: string; readonly data?: unknown }[]; readonly error?: unknown }
interface RoomState { handlers: Set<MessageHandler>; place: HistoryPlace | undefined; seen: Set<string>; buffering: { data: unknown; envelope: Envelope; event: string }[] | undefined }

const SEEN_LIMIT = 1000;

/** A Switchboard client over socket.io-client: re-joins, fills gaps from history, refreshes tokens. */
export function createClient(options: ClientOptions): Client {
  const { url, getToken, refreshSkewS = 30, ...socketOptions } = options;
  let token: string | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const rooms = new Map<string, RoomState>();
  const listeners = new Map<string, Set<(...args: never[]) => void>>();

  const socket = io(url, {
    transports: ['websocket'],
    ...socketOptions,
    autoConnect: false,
    auth: (callback) => void Promise.resolve(token ?? getToken()).then((value) => { token = value; scheduleRefresh(value); callback({ token: value }); }),
  });

  function emitLocal(event: string, ...args: unknown[]): void {
    for (const handler of listeners.get(event) ?? []) (handler as (...a: unknown[]) => void)(...args);
  }
  const setState = (state: ClientState): void => emitLocal('state', state);

  function scheduleRefresh(value: string): void {
    if (refreshTimer !== undefined) clearTimeout(refreshTimer);
    const exp = expiryOf(value);
    if (exp === undefined || closed) return;
    const inMs = Math.max(0, exp * 1000 - Date.now() - refreshSkewS * 1000);
    refreshTimer = setTimeout(() => quietly(refresh()), inMs);
  }

  async function refresh(): Promise<void> {
    if (closed) return;
    const value = await getToken();
    token = value;
    scheduleRefresh(value);
    if (socket.connected) await socket.emitWithAck('auth:refresh', { token: value });
  }

  function deliver(state: RoomState, room: string, event: string, data: unknown, envelope: Envelope): void {
    const id = typeof envelope.id === 'string' ? envelope.id : undefined;
    if (id !== undefined) {
      if (state.seen.has(id)) return;
      state.seen.add(id);
      if (state.seen.size > SEEN_LIMIT) state.seen.delete(state.seen.values().next().value as string);
    }
    const place = envelope.history?.[room];
    if (place !== undefined) {
      if (state.place !== undefined && state.place.epoch === place.epoch && place.offset <= state.place.offset) return;
      state.place = place;
    }
    const meta: MessageMeta = { id: id ?? '', room, offset: place?.offset, epoch: place?.epoch };
    for (const handler of state.handlers) handler(data, meta);
    if (event !== '') for (const handler of listeners.get(event) ?? []) (handler as MessageHandler)(data, meta);
  }

  async function join(room: string, state: RoomState, resume: boolean): Promise<void> {
    state.buffering = resume && state.place !== undefined ? [] : undefined;
    await socket.emitWithAck('room/join-room', room);
    const buffered = state.buffering;
    if (buffered === undefined || state.place === undefined) return;
    try {
      const page = await socket.emitWithAck('history', { room, since: state.place.offset, epoch: state.place.epoch }) as HistoryPage;
      if (page.error !== undefined) emitLocal('gap', { room, reason: 'error' } satisfies Gap);
      else if (page.recovered === false) emitLocal('gap', { room, reason: page.epoch !== state.place.epoch ? 'epoch' : 'trimmed' } satisfies Gap);
      for (const message of page.messages ?? []) {
        if (page.epoch === undefined) break;
        deliver(state, room, message.event ?? '', message.data, { id: message.id, history: { [room]: { epoch: page.epoch, offset: message.offset } } });
      }
    } finally {
      state.buffering = undefined;
      for (const item of buffered) deliver(state, room, item.event, item.data, item.envelope);
    }
  }

  socket.onAny((event: string, data: unknown, envelope: unknown) => {
    if (event.startsWith('auth:') || event === 'switchboard:ready' || !isEnvelope(envelope)) return;
    const targeted = Object.keys(envelope.history ?? {}).filter((room) => rooms.has(room));
    for (const room of targeted) {
      const state = rooms.get(room) as RoomState;
      if (state.buffering !== undefined) state.buffering.push({ data, envelope, event });
      else deliver(state, room, event, data, envelope);
    }
    if (targeted.length === 0) {
      const meta: MessageMeta = { id: typeof envelope.id === 'string' ? envelope.id : '', room: undefined, offset: undefined, epoch: undefined };
      for (const handler of listeners.get(event) ?? []) (handler as MessageHandler)(data, meta);
    }
  });
  socket.on('connect', () => {
    setState({ state: 'connected' });
    if (socket.recovered) return;
    for (const [room, state] of rooms) quietly(join(room, state, true));
  });
  socket.on('disconnect', () => { if (!closed) setState({ state: 'reconnecting' }); });
  socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
    const code = error.data?.code;
    if (code === 'TOKEN_EXPIRED' && token !== undefined) {
      token = undefined; // a stale token: ask getToken once more, then try again
      socket.connect();
    } else if (code !== undefined) stop({ state: 'refused', code }); // a final refusal: socket.io-client stops too
  });
  socket.on('auth:expired', () => quietly(refresh()));
  socket.on('auth:logout', () => stop({ state: 'refused', code: 'auth:logout' }));

  function stop(state: ClientState): void {
    closed = true;
    if (refreshTimer !== undefined) clearTimeout(refreshTimer);
    socket.close();
    setState(state);
  }

  setState({ state: 'connecting' });
  socket.connect();

  return {
    socket,
    subscribe(room, handler) {
      let state = rooms.get(room);
      if (state === undefined) {
        state = { handlers: new Set(), place: undefined, seen: new Set(), buffering: undefined };
        rooms.set(room, state);
        if (socket.connected) quietly(join(room, state, false));
      }
      state.handlers.add(handler);
      const current = state;
      return { unsubscribe: () => { current.handlers.delete(handler); if (current.handlers.size === 0) { rooms.delete(room); if (socket.connected) socket.emit('room/leave-room', room); } } };
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

/**
 * Runs a join or a refresh without waiting: one cut short by a disconnect is done again on the next
 * connect (joins) or the next `auth:expired` / handshake (tokens), so its rejection is not the user's.
 */
function quietly(work: Promise<void>): void {
  work.catch(() => undefined);
}

function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && 'id' in value;
}

/** The `exp` claim of a JWT, in seconds; undefined for an opaque token. */
function expiryOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp : undefined;
  } catch {
    return undefined;
  }
}
