import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { setupWorker } from '@socket.io/sticky';
import type { Server } from 'socket.io';
import type { Metrics, MetricsExposition } from './metrics.js';
import { ENGINE_PATH, needsSticky } from './whole-connection.js';
import { handOffOf, isSwitchboardMessage, isWholeHandOff, type PrimaryMessage, type WorkerMessage } from './worker-messages.js';

/** How long a scrape waits for the primary to gather every worker's series. */
const SCRAPE_TIMEOUT_MS = 10_000;

/** How many characters of an id `@socket.io/sticky` routes by (its `sid=([\w-]{20})`). */
const STICKY_ID_LENGTH = 20;

/** Set in a worker's environment by the primary that forks it (`src/runtime/worker-pool.ts`). */
export const WORKER_ENV = 'SWITCHBOARD_WORKER';

/**
 * This process's side of WORKERS: a gateway that does not listen on PORT itself. The primary accepts the
 * connections and passes each one over IPC: a backend's whole, kept alive here; any other with
 * `@socket.io/sticky` (by Engine.IO session id, so long-polling requests reach the worker that holds their
 * session). The gateway's HTTP server (Fastify's) gets it as a `connection` event, so HTTP API requests work
 * on every worker too. The primary sends it nothing before it has attached.
 */
export class PoolWorker {
  private readonly scrapes = new Map<number, (answer: Extract<PrimaryMessage, { type: 'switchboard:scraped' }>) => void>();
  private nextScrape = 0;
  private port: ((port: number) => void) | undefined;
  private shutdown: (() => void) | undefined;
  private shutdownAsked = false;
  /** The answers of the requests in flight (see {@link inFlight}). */
  private readonly answers = new Set<ServerResponse>();
  /** The backends' connections the primary handed over whole (see WorkerPool), kept alive between requests. */
  private readonly whole = new WeakSet<Socket>();

  constructor() {
    // Registered before sticky's listener (in attach), so a connection is marked before sticky injects it.
    process.on('message', (message: unknown, handle: unknown) => {
      if (isSwitchboardMessage<PrimaryMessage>(message)) this.receive(message);
      if (handle instanceof Socket && isWholeHandOff(message)) this.whole.add(handle);
      // A connection handed over (sticky injects it into the gateway): this process has its own descriptor
      // now, so the primary may close its copy. Acknowledged also when Node could not pass the socket (the
      // client went away meanwhile): the primary's copy is then the last one, and closing it is right.
      const handOff = handOffOf(message);
      if (handOff !== undefined) send({ type: 'switchboard:got', id: handOff });
    });
    // The primary is gone (killed): nobody hands this worker connections any more.
    process.once('disconnect', () => this.stop());
  }

  /** Takes the connections the primary hands over; resolves with the port the primary listens on. */
  attach(io: Server): Promise<number> {
    // sticky answers every request with `Connection: close` (a connection it routed by the first request
    // must not carry another session's); on a backend's connection handed whole, a request that needs no
    // routing keeps it alive. Prepended before sticky's listener, which prepends itself: it runs after it, before Fastify's.
    // Any other request on such a connection (a long-polling one, which may belong to another worker) still
    // closes it, so the client's next request goes through sticky again.
    io.httpServer.prependListener('request', (request: IncomingMessage, answer: ServerResponse) => {
      if (!this.whole.has(request.socket)) return;
      if (!needsSticky({ method: request.method ?? '', target: request.url ?? '', rawHeaders: request.rawHeaders }, ENGINE_PATH)) answer.removeHeader('Connection');
    });
    setupWorker(io);
    io.httpServer.on('request', (_request: IncomingMessage, answer: ServerResponse) => {
      this.answers.add(answer);
      const done = () => this.answers.delete(answer);
      answer.once('finish', done);
      answer.once('close', done);
    });
    const port = new Promise<number>((resolve) => (this.port = resolve));
    send({ type: 'switchboard:attached' });
    return port;
  }

  /**
   * Has the primary send this worker every request whose head carries `sid=` and this id's first 20
   * characters (the admin dashboard's session cookie), the way sticky routes a long-polling request by its
   * Engine.IO session id: it is registered in the same map, with sticky's own message.
   */
  pin(sessionId: string): void {
    send({ type: 'sticky:connection', data: sessionId.slice(0, STICKY_ID_LENGTH) });
  }

  unpin(sessionId: string): void {
    send({ type: 'sticky:disconnection', data: sessionId.slice(0, STICKY_ID_LENGTH) });
  }

  /**
   * The HTTP requests in flight on the connections handed in, and a promise of their answers. This worker
   * never listened, so closing its HTTP server does not wait for them (Fastify's close waits for its
   * listener's connections): the gateway's shutdown waits here, bounded by SHUTDOWN_TIMEOUT_MS like the rest.
   * WebSocket connections are not requests in flight (the Engine.IO server closes them before).
   */
  inFlight(): { readonly count: number; readonly done: Promise<void> } {
    const open = [...this.answers];
    const done = Promise.all(open.map((answer) => new Promise<void>((resolve) => {
      answer.once('finish', () => resolve());
      answer.once('close', () => resolve());
    }))).then(() => undefined);
    return { count: open.length, done };
  }

  /** Tells the primary this worker is ready. */
  ready(urls: { readonly authUrl: string | undefined; readonly metricsUrl: string | undefined }): void {
    send({ type: 'switchboard:ready', ...urls });
  }

  /** What to run when the primary says stop (or goes away): the gateway's graceful shutdown. */
  onShutdown(stop: () => void): void {
    this.shutdown = stop;
    if (this.shutdownAsked) stop();
  }

  /**
   * The node's metrics for `/metrics` and METRICS_PORT: a scrape lands on one worker, so it asks the primary,
   * which aggregates every worker's series (each labelled with its worker's node id) with prom-client's
   * `AggregatorRegistry`. Answers the primary's requests for this worker's own series from `metrics`.
   */
  shareMetrics(metrics: Metrics): Pick<Metrics, 'exposition'> {
    process.on('message', (message: unknown) => {
      if (!isSwitchboardMessage<PrimaryMessage>(message) || message.type !== 'switchboard:collect') return;
      metrics.snapshot().then(
        (snapshot) => send({ type: 'switchboard:snapshot', id: message.id, metrics: snapshot }),
        () => send({ type: 'switchboard:snapshot', id: message.id, metrics: [] }),
      );
    });
    return { exposition: () => this.scrape() };
  }

  private scrape(): Promise<MetricsExposition> {
    const id = this.nextScrape++;
    return new Promise<MetricsExposition>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.scrapes.delete(id);
        reject(new Error('the primary did not answer the metrics scrape'));
      }, SCRAPE_TIMEOUT_MS);
      this.scrapes.set(id, (answer) => {
        clearTimeout(timer);
        this.scrapes.delete(id);
        if (answer.exposition === undefined) reject(new Error(answer.error ?? 'no metrics'));
        else resolve(answer.exposition);
      });
      send({ type: 'switchboard:scrape', id });
    });
  }

  private receive(message: PrimaryMessage): void {
    if (message.type === 'switchboard:port') this.port?.(message.port);
    else if (message.type === 'switchboard:shutdown') this.stop();
    else if (message.type === 'switchboard:scraped') this.scrapes.get(message.id)?.(message);
  }

  /** Stops the gateway, or once it is listening when it is still starting. */
  private stop(): void {
    this.shutdownAsked = true;
    this.shutdown?.();
  }
}

/** sticky's own message binding an id to the worker that sends it (and its release). */
interface StickyBinding {
  readonly type: 'sticky:connection' | 'sticky:disconnection';
  readonly data: string;
}

function send(message: WorkerMessage | StickyBinding): void {
  if (process.connected) process.send?.(message);
}
