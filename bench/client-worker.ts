/**
 * A client worker: a child process holding thousands of raw Engine.IO clients, driven by the bench parent
 * over IPC (see lib/ipc.ts). It counts `bench` deliveries per client, drops duplicates from the latency
 * samples, and measures publish → delivery latency against the `t` the parent stamped at send time.
 */
import { browserHeaders, type HeaderProfile } from './lib/browser-headers.js';
import { connectEio, type EioConnection } from './lib/eio-client.js';
import { nowMs } from './lib/clock.js';
import type {
  BenchData, ClientIdentity, Collected, ConnectResult, Progress, Replies, ReplyEnvelope, RequestEnvelope, WorkerRequest,
} from './lib/ipc.js';
import { signClientToken } from './lib/tokens.js';

interface Client {
  readonly connection: EioConnection;
  /** Seqs this client received since the last reset, to count duplicates. */
  readonly seen: Set<number>;
}

const clients: Client[] = [];
let seqBase = 0;
let latencies: number[] = [];
/** seq → latency of its first delivery (the head of a fan-out), to tell the hop from the fan-out's spread. */
let firstBySeq = new Map<number, number>();
let received = 0;
let duplicates = 0;
let stale = 0;
let lastDeliveryAt = 0;

if (process.send === undefined) throw new Error('client-worker must be started with child_process.fork');
// The parent went away (crash, Ctrl-C): nothing left to do.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: RequestEnvelope) => {
  handle(message.request).then(
    (reply) => send({ id: message.id, ok: true, reply }),
    (error: unknown) => send({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});

function send(envelope: ReplyEnvelope): void {
  process.send?.(envelope);
}

async function handle(request: WorkerRequest): Promise<Replies[WorkerRequest['type']]> {
  switch (request.type) {
    case 'connect':
      return connectAll(request.url, request.clients, request.batchSize, request.timeoutMs, request.headers);
    case 'reset':
      reset(request.seqBase);
      return null;
    case 'progress':
      return progress();
    case 'collect':
      return collect();
    case 'close-all':
      await Promise.all(clients.splice(0).map((client) => client.connection.close()));
      return null;
  }
}

async function connectAll(
  url: string, identities: readonly ClientIdentity[], batchSize: number, timeoutMs: number, profile: HeaderProfile,
): Promise<ConnectResult> {
  let connected = 0;
  let failed = 0;
  const errors: string[] = [];
  for (let start = 0; start < identities.length; start += batchSize) {
    const batch = identities.slice(start, start + batchSize);
    const results = await Promise.allSettled(batch.map((identity) => connectOne(url, identity, timeoutMs, profile)));
    for (const result of results) {
      if (result.status === 'fulfilled') {
        clients.push(result.value);
        connected += 1;
      } else {
        failed += 1;
        if (errors.length < 5) errors.push(String(result.reason instanceof Error ? result.reason.message : result.reason));
      }
    }
  }
  return { connected, failed, errors };
}

async function connectOne(url: string, identity: ClientIdentity, timeoutMs: number, profile: HeaderProfile): Promise<Client> {
  const token = await signClientToken(identity.userId, identity.sessionId);
  const seen = new Set<number>();
  const headers = profile === 'browser' ? browserHeaders(identity.sessionId) : undefined;
  const connection = await connectEio(url, token, (event, args) => {
    if (event === 'bench') onDelivery(seen, args[0] as BenchData);
  }, timeoutMs, headers);
  return { connection, seen };
}

function onDelivery(seen: Set<number>, data: BenchData): void {
  const now = nowMs();
  if (data.seq < seqBase) {
    stale += 1;
  } else if (seen.has(data.seq)) {
    duplicates += 1;
  } else {
    seen.add(data.seq);
    received += 1;
    const latency = now - data.t;
    latencies.push(latency);
    if (!firstBySeq.has(data.seq)) firstBySeq.set(data.seq, latency);
    lastDeliveryAt = now;
  }
}

function reset(base: number): void {
  seqBase = base;
  latencies = [];
  firstBySeq = new Map();
  received = 0;
  duplicates = 0;
  stale = 0;
  lastDeliveryAt = 0;
  for (const client of clients) client.seen.clear();
}

function progress(): Progress {
  let open = 0;
  for (const client of clients) if (client.connection.isOpen()) open += 1;
  return { received, duplicates, stale, lastDeliveryAt, open };
}

function collect(): Collected {
  return { ...progress(), latencies: Float64Array.from(latencies), firstBySeq };
}
