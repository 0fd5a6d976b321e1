import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HeaderProfile } from './browser-headers.js';
import { track } from './children.js';
import { sleep } from './clock.js';
import { summarize, type LatencySummary } from './stats.js';
import type {
  ClientIdentity, ConnectResult, Progress, Replies, ReplyEnvelope, RequestType, WorkerRequest,
} from './ipc.js';

const WORKER_PATH = fileURLToPath(new URL('../client-worker.ts', import.meta.url));
const REQUEST_TIMEOUT_MS = 120_000;

/** One forked client worker and its pending requests. */
class WorkerHandle {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (envelope: ReplyEnvelope) => {
      const waiter = this.pending.get(envelope.id);
      if (waiter === undefined) return;
      this.pending.delete(envelope.id);
      if (envelope.ok) waiter.resolve(envelope.reply);
      else waiter.reject(new Error(`client worker: ${envelope.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`client worker exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  request<K extends RequestType>(request: Extract<WorkerRequest, { type: K }>): Promise<Replies[K]> {
    const id = this.nextId++;
    return new Promise<Replies[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`client worker did not answer '${request.type}' within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (reply) => { clearTimeout(timer); resolve(reply as Replies[K]); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      this.child.send({ id, request });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Disconnects the worker (it exits on 'disconnect') and waits for it, SIGKILLing it after 3 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The load generator's client side: a few worker processes (separate from the servers and from the
 * publishing parent) that together hold all bench clients. Requests fan out to every worker and the
 * replies are summed.
 */
export class ClientPool {
  private constructor(private readonly workers: readonly WorkerHandle[]) {}

  static start(count: number): ClientPool {
    const workers = Array.from({ length: count }, () =>
      new WorkerHandle(track(fork(WORKER_PATH, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced' }))));
    return new ClientPool(workers);
  }

  /**
   * Connects the clients gradually, `batchSize` at a time across all workers (so the server's accept
   * backlog never sees more than that at once), and waits for every CONNECT ack or failure. `headers`:
   * which header set the clients' upgrade requests carry (lib/browser-headers.ts).
   */
  async connect(
    url: string, identities: readonly ClientIdentity[], batchSize: number, timeoutMs: number, headers: HeaderProfile = 'bare',
  ): Promise<ConnectResult> {
    const perWorker = Math.max(1, Math.floor(batchSize / this.workers.length));
    const shares = this.workers.map((_, w) => identities.filter((_identity, i) => i % this.workers.length === w));
    const results = await Promise.all(this.workers.map((worker, w) =>
      worker.request({ type: 'connect', url, clients: shares[w] ?? [], batchSize: perWorker, timeoutMs, headers })));
    return {
      connected: sum(results.map((r) => r.connected)),
      failed: sum(results.map((r) => r.failed)),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
    };
  }

  /** The workers' process ids, to account their CPU. */
  pids(): number[] {
    return this.workers.flatMap((worker) => (worker.pid === undefined ? [] : [worker.pid]));
  }

  async reset(seqBase: number): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.request({ type: 'reset', seqBase })));
  }

  async progress(): Promise<Progress> {
    return combine(await Promise.all(this.workers.map((worker) => worker.request({ type: 'progress' }))));
  }

  /**
   * The counts since the last reset, the latency percentiles over all workers' samples, and those of each
   * publish's first delivery to any client (for a fan-out: when its head arrived, before the spread).
   */
  async collect(): Promise<Progress & { readonly latency: LatencySummary; readonly firstDelivery: LatencySummary }> {
    const parts = await Promise.all(this.workers.map((worker) => worker.request({ type: 'collect' })));
    const first = new Map<number, number>();
    for (const part of parts) {
      for (const [seq, latency] of part.firstBySeq) first.set(seq, Math.min(latency, first.get(seq) ?? Infinity));
    }
    return {
      ...combine(parts),
      latency: summarize(parts.map((p) => p.latencies)),
      firstDelivery: summarize([Float64Array.from(first.values())]),
    };
  }

  /**
   * Polls until `expected` distinct deliveries arrived or `timeoutMs` passed (what is missing by then
   * counts as lost). Returns the last progress seen.
   */
  async waitForDeliveries(expected: number, timeoutMs: number): Promise<Progress> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const progress = await this.progress();
      if (progress.received >= expected || performance.now() >= deadline) return progress;
      await sleep(25);
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.request({ type: 'close-all' })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}

function combine(parts: readonly Progress[]): Progress {
  return {
    received: sum(parts.map((p) => p.received)),
    duplicates: sum(parts.map((p) => p.duplicates)),
    stale: sum(parts.map((p) => p.stale)),
    lastDeliveryAt: Math.max(0, ...parts.map((p) => p.lastDeliveryAt)),
    open: sum(parts.map((p) => p.open)),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
