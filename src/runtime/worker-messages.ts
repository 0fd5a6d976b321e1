import type { MetricsExposition, MetricsSnapshot } from './metrics.js';

/**
 * The messages between a WORKERS primary and its gateway workers over the cluster's IPC channel (beside
 * `@socket.io/sticky`'s own `sticky:*` ones, which carry the connections). Every type starts with
 * `switchboard:`, so each side ignores what is not for it.
 */
export type PrimaryMessage =
  /** The primary listens on this port (sent once, to each worker that is attached). */
  | { readonly type: 'switchboard:port'; readonly port: number }
  /** Drain and stop, as on SIGTERM. */
  | { readonly type: 'switchboard:shutdown' }
  /** Send your metrics' snapshot, answered with `switchboard:snapshot`. */
  | { readonly type: 'switchboard:collect'; readonly id: number }
  /** The node's metrics, every worker's series, answering a worker's `switchboard:scrape`. */
  | { readonly type: 'switchboard:scraped'; readonly id: number; readonly exposition?: MetricsExposition; readonly error?: string };

export type WorkerMessage =
  /** The gateway is built and takes connections from the primary. */
  | { readonly type: 'switchboard:attached' }
  /** The gateway is ready (its own listeners too: AUTH_PORT, METRICS_PORT). */
  | { readonly type: 'switchboard:ready'; readonly authUrl: string | undefined; readonly metricsUrl: string | undefined }
  /** A scrape arrived at this worker: the primary gathers every worker's series. */
  | { readonly type: 'switchboard:scrape'; readonly id: number }
  /** This worker has the connection the primary handed over with this id (see {@link StickyHandOff}): the primary closes its copy. */
  | { readonly type: 'switchboard:got'; readonly id: number }
  | { readonly type: 'switchboard:snapshot'; readonly id: number; readonly metrics: MetricsSnapshot };

/** Whether an IPC message is one of Switchboard's (and not sticky's, prom-client's or another library's). */
export function isSwitchboardMessage<M extends { readonly type: string }>(message: unknown): message is M {
  return typeof message === 'object' && message !== null && 'type' in message && typeof message.type === 'string' && message.type.startsWith('switchboard:');
}

/**
 * sticky's message handing a connection to a worker, with the id the primary adds: it keeps its copy of the
 * socket open until the worker answers `switchboard:got` with that id, and closes it if the worker dies first.
 */
export interface StickyHandOff {
  readonly type: 'sticky:connection';
  readonly handOff: number;
  /**
   * Set by the primary itself (not sticky) on a backend's connection handed over whole: the worker keeps it
   * alive for the next requests of its client, which sticky's path closes after each request.
   */
  readonly whole?: true;
}

/** Whether a hand-over is of a backend's connection, handed whole (see {@link StickyHandOff}). */
export function isWholeHandOff(message: unknown): boolean {
  return handOffOf(message) !== undefined && typeof message === 'object' && message !== null && 'whole' in message && message.whole === true;
}

/** The hand-off id of a message, when it is sticky's hand-over of a connection with one. */
export function handOffOf(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null || !('type' in message) || message.type !== 'sticky:connection') return undefined;
  return 'handOff' in message && typeof message.handOff === 'number' ? message.handOff : undefined;
}
