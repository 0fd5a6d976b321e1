/**
 * The request/reply protocol between the bench parent and its client workers (Node IPC with the
 * 'advanced' serialization, so latency samples travel as a Float64Array). Each request carries an id that
 * its reply echoes.
 */
import type { HeaderProfile } from './browser-headers.js';

/** Who a client authenticates as; the worker signs the token itself. */
export interface ClientIdentity {
  readonly userId: string;
  readonly sessionId: string;
}

export type WorkerRequest =
  /**
   * Opens the clients in batches of `batchSize` (the next batch starts once the previous one settled), each
   * sending the `headers` profile on its upgrade (per-client values keyed by its session id).
   */
  | {
    type: 'connect'; url: string; clients: readonly ClientIdentity[]; batchSize: number; timeoutMs: number;
    headers: HeaderProfile;
  }
  /** Starts a measurement: forget samples; `bench` events with `seq < seqBase` are from an earlier one. */
  | { type: 'reset'; seqBase: number }
  | { type: 'progress' }
  | { type: 'collect' }
  | { type: 'close-all' };

export type RequestType = WorkerRequest['type'];

export interface ConnectResult {
  readonly connected: number;
  readonly failed: number;
  /** The first few failure reasons, for the report. */
  readonly errors: readonly string[];
}

export interface Progress {
  /** Distinct (client, seq) deliveries since the last reset. */
  readonly received: number;
  /** Deliveries of a seq the client had already received. */
  readonly duplicates: number;
  /** Deliveries left over from an earlier measurement (seq below the current base). */
  readonly stale: number;
  /** Wall-clock ms (see clock.ts) of the last delivery, 0 if none. */
  readonly lastDeliveryAt: number;
  /** Clients whose WebSocket is still open. */
  readonly open: number;
}

export interface Collected extends Progress {
  /** Publish → delivery latency of every distinct delivery, in ms. */
  readonly latencies: Float64Array;
  /** Per seq, the latency of its first delivery to any of this worker's clients, in ms. */
  readonly firstBySeq: ReadonlyMap<number, number>;
}

export interface Replies {
  connect: ConnectResult;
  reset: null;
  progress: Progress;
  collect: Collected;
  'close-all': null;
}

export interface RequestEnvelope {
  readonly id: number;
  readonly request: WorkerRequest;
}

export type ReplyEnvelope =
  | { readonly id: number; readonly ok: true; readonly reply: Replies[RequestType] }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The data every bench publish carries: a sequence number and the wall-clock send time in ms. */
export interface BenchData {
  readonly seq: number;
  readonly t: number;
}
