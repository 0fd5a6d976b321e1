import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { Server as NetServer, Socket, type AddressInfo } from 'node:net';
import { setupMaster } from '@socket.io/sticky';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/config.js';
import { localUrl } from './local-url.js';
import type { MetricsSnapshot } from './metrics.js';
import { WORKER_ENV } from './pool-worker.js';
import { restartPause } from './restart-backoff.js';
import { ENGINE_PATH, firstRequestHead, isBackendRequest } from './whole-connection.js';
import { isSwitchboardMessage, type PrimaryMessage, type StickyHandOff, type WorkerMessage } from './worker-messages.js';

/** How long the primary waits for one worker's metrics before scraping without them. */
const COLLECT_TIMEOUT_MS = 5000;
/**
 * What a worker counts as in sticky's least-connection choice (its `clientsCount`) until it is ready, on top
 * of its clients: a starting worker gets a new connection only when every worker is starting. Exact in a
 * double (unlike `MAX_SAFE_INTEGER`), so the clients it counts meanwhile are kept when it is taken off.
 */
const STARTING_WEIGHT = 1_000_000_000;
/** The longest a connection waits in the primary for its worker to attach; past it, it is closed. */
const HOLD_LIMIT_MS = 10_000;

export interface WorkerPoolOptions {
  readonly workers: number;
  readonly port: number;
  readonly host: string;
  /** Added to every worker's environment (the development secrets this run generated, so all workers share them). */
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /**
   * How long a connection may stay idle in the primary (HTTP_REQUEST_TIMEOUT_MS) before it is closed: one
   * whose request sticky relays (it has a body) and whose worker stopped answering; one handed over waits
   * at most that long for the worker's acknowledgement (closing the primary's copy only).
   */
  readonly idleTimeoutMs: number;
  /** SHUTDOWN_DELAY_MS: the primary stops listening once it has passed, as the workers start closing. */
  readonly shutdownDelayMs: number;
  /**
   * Whether a backend's connection may be handed to a worker whole (see {@link WorkerPool.handBackendsWhole}):
   * not behind a proxy (TRUST_PROXY set), which may reuse one connection for every client's requests.
   */
  readonly wholeBackendConnections: boolean;
}

/** What the primary knows of one worker. */
interface Member {
  readonly worker: Worker;
  attached: boolean;
  ready: boolean;
  /** When it reported ready (`Date.now()`). */
  readyAt: number | undefined;
  /** The pause before it was started, in place of a worker that died (0 for one of the first). */
  readonly restartPauseMs: number;
  /** Sends what was held for it while it started (see {@link handOver}). */
  release(): void;
  /** The worker has the connection handed over with this id: the primary's copy of the socket is closed. */
  acknowledged(handOff: number): void;
  /** The worker answered (or dropped) the relayed request of this sticky connection id. */
  relayEnded(connectionId: string): void;
  /** Drops what was held for it and closes the connections it did not acknowledge or whose relayed request it did not answer (it died). */
  discard(): void;
}

/**
 * The primary process of WORKERS: forks the gateway workers (each a node of the Redis cluster, with its
 * own node id), accepts every connection on PORT and hands it to a worker: a backend's whole (see
 * {@link WorkerPool.handBackendsWhole}), any other with `@socket.io/sticky` (by Engine.IO session id, else
 * the worker with the fewest connections), replaces a worker that dies, serves
 * the aggregated metrics to whichever worker a scrape lands on, and drains them all on `close()`.
 * Holds no gateway state itself: the workers are the nodes.
 */
export class WorkerPool {
  private readonly members = new Map<number, Member>();
  /**
   * PORT's listener. It never parses a request (sticky takes each connection's bytes), so Node's request
   * timers stay off: the workers time their requests, and an idle timeout (`idleTimeoutMs`) closes a relayed
   * connection whose worker stopped answering.
   */
  private readonly server: Server = createServer({ requestTimeout: 0, headersTimeout: 0 });
  private readonly log: Logger;
  private listening: number | undefined;
  private stopping = false;
  private exitedBadly = false;
  private startFailed: ((error: Error) => void) | undefined;
  private allReady: (() => void) | undefined;
  private allExited: (() => void) | undefined;
  private nextCollect = 0;
  /** The round-robin turn of the next backend's connection handed over whole. */
  private nextWhole = 0;
  private readonly collects = new Map<number, (metrics: MetricsSnapshot) => void>();
  /** The auth service's and the metrics listener's URLs, as the first ready worker reports them (the workers share those ports). */
  authUrl: string | undefined;
  metricsUrl: string | undefined;

  constructor(private readonly options: WorkerPoolOptions) {
    this.log = options.logger.child({ component: 'workers' });
    // sticky passes each request's first bytes as a Buffer, which the default (JSON) IPC would not keep.
    cluster.setupPrimary({ serialization: 'advanced' });
    setupMaster(this.server, { loadBalancingMethod: 'least-connection' });
    this.server.on('connection', (socket: Socket) => {
      socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
      this.handBackendsWhole(socket);
    });
    cluster.on('message', (worker, message: unknown) => {
      if (isSwitchboardMessage<WorkerMessage>(message)) this.receive(worker, message);
      else if (isRelayEnd(message)) this.members.get(worker.id)?.relayEnded(message.connectionId);
    });
    cluster.on('exit', (worker, code, signal) => this.exited(worker, code, signal));
  }

  /** Starts the workers, listens on PORT once each is attached, and resolves with the base URL once each is ready. */
  async listen(): Promise<string> {
    const ready = new Promise<void>((resolve, reject) => {
      this.allReady = resolve;
      this.startFailed = reject;
    });
    for (let i = 0; i < this.options.workers; i++) this.fork();
    await ready;
    this.startFailed = undefined;
    const url = localUrl(this.options.host, this.listening ?? 0);
    this.log.info({ port: this.listening, workers: this.options.workers, authUrl: this.authUrl, metricsUrl: this.metricsUrl }, 'gateway listening');
    return url;
  }

  /**
   * Drains every worker (each runs the gateway's graceful shutdown) and resolves once all have exited;
   * rejects when one of them did not stop cleanly. Replacements are no longer started.
   */
  async close(): Promise<void> {
    this.stopping = true;
    const exited = new Promise<void>((resolve) => (this.allExited = resolve));
    for (const { worker } of this.members.values()) tell(worker, { type: 'switchboard:shutdown' });
    // While `/readyz` answers 503 (SHUTDOWN_DELAY_MS) the primary still accepts; then, as the workers close
    // their clients, it stops: clients reconnecting and new connections go to another machine, not to a
    // draining worker. Connections already accepted are still served.
    const stopAccepting = setTimeout(() => this.stopAccepting(), this.options.shutdownDelayMs);
    if (this.members.size > 0) await exited;
    clearTimeout(stopAccepting);
    this.stopAccepting();
    // Nothing is served without workers; connections still open (a client's keep-alive) go with the process.
    this.server.closeAllConnections();
    this.log.info('stopped');
    if (this.exitedBadly) throw new Error('a worker did not stop cleanly');
  }

  private stopAccepting(): void {
    if (!this.server.listening) return;
    // net's close, not http's: that one also closes the connections it sees idle, which is every one here
    // (this server parses no request), a relayed request waiting for its answer too.
    NetServer.prototype.close.call(this.server);
    this.log.info('stopped accepting connections');
  }

  /** SIGKILLs the workers still running (the shutdown timed out). */
  kill(): void {
    for (const { worker } of this.members.values()) worker.process.kill('SIGKILL');
  }

  private fork(restartPauseMs = 0): void {
    const worker = cluster.fork({ ...this.options.env, [WORKER_ENV]: '1' });
    stickyCount(worker).clientsCount = STARTING_WEIGHT;
    this.members.set(worker.id, { worker, attached: false, ready: false, readyAt: undefined, restartPauseMs, ...handOver(worker, this.log) });
  }

  private receive(worker: Worker, message: WorkerMessage): void {
    const member = this.members.get(worker.id);
    if (member === undefined) return;
    switch (message.type) {
      case 'switchboard:attached':
        member.attached = true;
        member.release();
        if (this.listening !== undefined) tell(worker, { type: 'switchboard:port', port: this.listening });
        else if ([...this.members.values()].every((m) => m.attached)) this.listenOnPort();
        break;
      case 'switchboard:ready':
        member.ready = true;
        member.readyAt = Date.now();
        stickyCount(worker).clientsCount = (stickyCount(worker).clientsCount ?? STARTING_WEIGHT) - STARTING_WEIGHT;
        this.authUrl ??= message.authUrl;
        this.metricsUrl ??= message.metricsUrl;
        this.log.info({ worker: worker.id, pid: worker.process.pid }, 'worker ready');
        if (this.members.size === this.options.workers && [...this.members.values()].every((m) => m.ready)) this.allReady?.();
        break;
      case 'switchboard:scrape':
        this.scrape().then(
          (exposition) => tell(worker, { type: 'switchboard:scraped', id: message.id, exposition }),
          (error: unknown) => tell(worker, { type: 'switchboard:scraped', id: message.id, error: String(error) }),
        );
        break;
      case 'switchboard:got':
        member.acknowledged(message.id);
        break;
      case 'switchboard:snapshot':
        this.collects.get(message.id)?.(message.metrics);
        break;
    }
  }

  /**
   * Hands a backend's connection (its first request {@link isBackendRequest}) to a ready worker whole, in
   * turn: the worker reads the socket itself from then on, the rest of a body split over TCP packets and every
   * later keep-alive request included. sticky would relay a request with a body through the primary over IPC
   * and close the connection after it, which capped every worker's publishes at what the primary relays.
   * Any other connection's first chunk goes to sticky's own listener, taken off the socket here (sticky's
   * `connection` listener added it before this one runs) and put back for the chunks after it.
   */
  private handBackendsWhole(socket: Socket): void {
    const sticky = socket.listeners('data') as ((chunk: Buffer) => void)[];
    socket.removeAllListeners('data');
    socket.once('data', (chunk: Buffer) => {
      const head = firstRequestHead(chunk);
      const backend = this.options.wholeBackendConnections && head !== undefined && isBackendRequest(head, ENGINE_PATH);
      const worker = backend ? this.nextReadyWorker() : undefined;
      if (worker === undefined) {
        for (const listener of sticky) socket.on('data', listener);
        for (const listener of sticky) listener.call(socket, chunk);
        return;
      }
      // Through the wrapped `send` (see handOver): it stops the primary's reads of the socket at once (this
      // chunk was its only read), adds the hand-off id, and holds it if the worker has not attached yet.
      const handOff = { type: 'sticky:connection', data: chunk, whole: true };
      worker.send(handOff, socket, (error: Error | null) => {
        if (error) socket.destroy();
      });
    });
  }

  /** The next of the ready workers in turn; undefined when none is ready (sticky then chooses). */
  private nextReadyWorker(): Worker | undefined {
    const ready = [...this.members.values()].filter((member) => member.ready && member.worker.isConnected());
    if (ready.length === 0) return undefined;
    return ready[this.nextWhole++ % ready.length]?.worker;
  }

  private listenOnPort(): void {
    this.server.once('error', (error) => this.startFailed?.(error));
    this.server.listen(this.options.port, this.options.host, () => {
      this.listening = (this.server.address() as AddressInfo).port;
      for (const member of this.members.values()) tell(member.worker, { type: 'switchboard:port', port: this.listening });
    });
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const member = this.members.get(worker.id);
    this.members.delete(worker.id);
    member?.discard();
    if (this.stopping) {
      if (code !== 0) this.exitedBadly = true;
      this.log.info({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker stopped');
      if (this.members.size === 0) this.allExited?.();
      return;
    }
    if (this.startFailed !== undefined) {
      this.startFailed(new Error(`worker ${worker.process.pid ?? '?'} exited during start (${signal ?? `code ${code ?? '?'}`})`));
      return;
    }
    const pauseMs = restartPause(member?.restartPauseMs ?? 0, member?.readyAt === undefined ? 0 : Date.now() - member.readyAt);
    this.log.warn({ worker: worker.id, pid: worker.process.pid, pauseMs, code, signal }, 'worker exited, starting another');
    setTimeout(() => {
      if (!this.stopping) this.fork(pauseMs);
    }, pauseMs);
  }

  /** Every ready worker's series, aggregated (each keeps its `node` label, so nothing is summed across workers). */
  private async scrape(): Promise<{ contentType: string; body: string }> {
    const ready = [...this.members.values()].filter((member) => member.ready);
    const snapshots = await Promise.all(ready.map(({ worker }) => this.collect(worker)));
    const registry = AggregatorRegistry.aggregate(snapshots.filter((snapshot) => snapshot !== undefined));
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  private collect(worker: Worker): Promise<MetricsSnapshot | undefined> {
    const id = this.nextCollect++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.collects.delete(id);
        this.log.warn({ worker: worker.id }, 'worker did not send its metrics in time');
        resolve(undefined);
      }, COLLECT_TIMEOUT_MS);
      this.collects.set(id, (metrics) => {
        clearTimeout(timer);
        this.collects.delete(id);
        resolve(metrics);
      });
      tell(worker, { type: 'switchboard:collect', id });
    });
  }
}

/** The id of the next connection handed to a worker (unique in the primary). */
let nextHandOff = 0;
/** Whether the primary warned that it cannot stop reading a socket (see {@link stopReading}); once is enough. */
let warnedUnstoppable = false;

/**
 * Wraps what sticky sends a worker, for what sticky does not do itself:
 * - It stops reading a socket in the primary the moment the socket is sent. Node closes the primary's copy
 *   only once the worker has acknowledged it, and discards whatever it reads there until then: a WebSocket
 *   client sending its first frame right after the upgrade's answer lost it when the primary was slow to
 *   get the acknowledgement (seen under load: the CONNECT packet lost, the client never connected).
 * - It sends a socket with `keepOpen` and a hand-off id, and keeps its copy (unread) until the worker
 *   acknowledges that id (`switchboard:got`, see PoolWorker). Without it, a worker that died after the socket
 *   was sent but before Node's own acknowledgement left the connection open in the primary, never closed:
 *   the client hung. Now the worker's exit closes every connection it had not acknowledged.
 * - It holds what is sent to a worker until the worker has attached. sticky hands connections to any
 *   worker in `cluster.workers`, which a replacement joins as soon as it is forked, long before its
 *   gateway is built: a message sent then would arrive before anyone in the worker listens, and be lost
 *   with its connection. The primary keeps them (the sockets stay open, unread) and sends them in order;
 *   one still held after HOLD_LIMIT_MS is dropped (sticky closes its connection). A starting worker gets new
 *   connections only when every worker is starting (STARTING_WEIGHT), so little waits here.
 */
function handOver(worker: Worker, log: Logger): Pick<Member, 'release' | 'acknowledged' | 'relayEnded' | 'discard'> {
  const send = worker.send;
  let held: { readonly sent: Sent; readonly timer: NodeJS.Timeout }[] | undefined = [];
  const unacknowledged = new Map<number, Socket>();
  /** sticky's callback of each request relayed to this worker and not answered yet, by sticky connection id. */
  const relayed = new Map<string, Sent['callback']>();
  const drop = (sent: Sent) => sent.callback?.(new Error('the worker did not take the connection'));
  const deliver = (sent: Sent) => Reflect.apply(send, worker, [sent.message, sent.handle, sent.options, sent.callback]) as boolean;
  worker.send = ((...args: unknown[]) => {
    const sent = keptOpen(sentOf(args), unacknowledged);
    if (sent.handle instanceof Socket && !sent.handle.destroyed && !stopReading(sent.handle) && !warnedUnstoppable) {
      warnedUnstoppable = true;
      log.warn('cannot stop reading a socket handed to a worker (Node.js internals changed): its first bytes after the hand-over may be lost');
    }
    followRelay(sent, relayed);
    if (held === undefined) return deliver(sent);
    const queue = held;
    const entry = {
      sent,
      timer: setTimeout(() => {
        queue.splice(queue.indexOf(entry), 1);
        drop(sent);
      }, HOLD_LIMIT_MS),
    };
    queue.push(entry);
    return true;
  }) as Worker['send'];
  return {
    release() {
      const queued = held ?? [];
      held = undefined;
      for (const { sent, timer } of queued) {
        clearTimeout(timer);
        deliver(sent);
      }
    },
    acknowledged(handOff) {
      unacknowledged.get(handOff)?.destroy();
      unacknowledged.delete(handOff);
    },
    relayEnded(connectionId) {
      relayed.delete(connectionId);
    },
    discard() {
      for (const { sent, timer } of held?.splice(0) ?? []) {
        clearTimeout(timer);
        drop(sent);
      }
      for (const socket of unacknowledged.values()) socket.destroy();
      unacknowledged.clear();
      for (const callback of relayed.values()) callback?.(new Error('the worker died'));
      relayed.clear();
    },
  };
}

/** A socket's hand-over sent with `keepOpen` and a hand-off id, its socket kept in `unacknowledged` until it closes. */
function keptOpen(sent: Sent, unacknowledged: Map<number, Socket>): Sent {
  const { message, handle } = sent;
  if (!(handle instanceof Socket) || typeof message !== 'object' || message === null || !('type' in message) || message.type !== 'sticky:connection') return sent;
  const handOff = nextHandOff++;
  unacknowledged.set(handOff, handle);
  handle.once('close', () => unacknowledged.delete(handOff));
  return { ...sent, message: { ...message, type: 'sticky:connection', handOff } satisfies StickyHandOff, options: { ...sent.options, keepOpen: true } };
}

/**
 * Keeps sticky's callback of a request it relays (`sticky:http-chunk-start`: the primary keeps the socket and
 * relays its bytes) until the worker answers it or the client goes (`sticky:abort`): given an error, the
 * callback closes the client's connection, which is what the worker's exit does with those still open.
 */
function followRelay({ message, callback }: Sent, relayed: Map<string, Sent['callback']>): void {
  if (typeof message !== 'object' || message === null || !('connectionId' in message) || typeof message.connectionId !== 'string' || !('type' in message)) return;
  if (message.type === 'sticky:http-chunk-start') relayed.set(message.connectionId, callback);
  else if (message.type === 'sticky:abort') relayed.delete(message.connectionId);
}

/** A worker's end of a relayed request's answer (sticky's `sticky:http-response-end` or `-destroy`). */
function isRelayEnd(message: unknown): message is { readonly type: string; readonly connectionId: string } {
  return typeof message === 'object' && message !== null && 'type' in message && (message.type === 'sticky:http-response-end' || message.type === 'sticky:http-response-destroy')
    && 'connectionId' in message && typeof message.connectionId === 'string';
}

/** One `worker.send` call, its arguments named (`send(message, handle?, options?, callback?)`, as Node shifts them). */
interface Sent {
  readonly message: unknown;
  readonly handle: unknown;
  readonly options: object | undefined;
  /** sticky's: given an error, it destroys the connection the message is about (handed over or relayed). */
  readonly callback: ((error: Error | null) => void) | undefined;
}

function sentOf([message, ...rest]: unknown[]): Sent {
  const callback = rest.find((arg): arg is Sent['callback'] => typeof arg === 'function');
  const [handle, options] = rest.filter((arg) => typeof arg !== 'function');
  return { message, handle, options: typeof options === 'object' && options !== null ? options : undefined, callback };
}

/** The property sticky's least-connection choice reads on a worker (it counts the Engine.IO sessions bound to it). */
function stickyCount(worker: Worker): { clientsCount?: number } {
  return worker as Worker & { clientsCount?: number };
}

/**
 * Stops the primary's reads of a socket being handed to a worker; false when it could not (not a socket, or
 * already closed, or a Node.js without the internal). Node has no public way to stop a socket's reads at
 * once (`pause()` only stops emitting what is still read), so this calls `readStop()` on the socket's
 * internal `_handle` (the libuv stream; there on Node 20, checked by test/workers.test.ts). The socket
 * keeps counting itself as reading, so it never starts again.
 */
export function stopReading(handle: unknown): boolean {
  if (!(handle instanceof Socket)) return false;
  const internal = (handle as unknown as { _handle?: { readStop?: unknown } | null })._handle;
  if (internal === null || internal === undefined || typeof internal.readStop !== 'function') return false;
  return internal.readStop() === 0;
}

function tell(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}

/**
 * The secrets this run generated (development only), as the environment variables that set them: every
 * worker must verify the same tokens and accept the same API key, so the primary hands its own to each.
 */
export function sharedSecrets(config: Config, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const authService = config.authService;
  const secrets: Record<string, string | undefined> = {
    API_KEYS: config.generated.apiKey,
    JWT_SECRET: config.generated.jwtSecret,
    ACCESS_KEY: config.generated.accessKey,
    ACCESS_TOKEN_SECRET: env.ACCESS_TOKEN_SECRET === undefined ? authService?.accessTokenSecret : undefined,
    REFRESH_TOKEN_SECRET: env.REFRESH_TOKEN_SECRET === undefined ? authService?.refreshTokenSecret : undefined,
  };
  return Object.fromEntries(Object.entries(secrets).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
