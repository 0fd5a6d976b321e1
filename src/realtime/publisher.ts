import { randomUUID } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import type { HistoryPosition, HistoryStore } from '../stores/history.js';
import { GatewayError } from '../protocol/errors.js';
import { assertPublishable, isMainNamespaceOnly, type Publication, type Target } from '../protocol/publication.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import type { Metrics, PublishSurface } from '../runtime/metrics.js';
import type { Tally } from '../runtime/metric-series.js';

/** Where a message landed in the history of each targeted room (absent for broadcasts or with history off). */
export type HistoryPositions = Record<string, HistoryPosition>;

/**
 * What a publish answers: the message id, and its place in each targeted room's history — plus `epoch`
 * and `offset` at the top level when exactly one room was targeted.
 */
export interface PublishResult {
  readonly id: string;
  readonly history?: HistoryPositions;
  readonly epoch?: string;
  readonly offset?: number;
}

/** The metadata clients receive as the argument after the data: `{ id, history? }`. */
interface DeliveryMeta {
  readonly id: string;
  readonly history?: HistoryPositions;
}

/**
 * Hands publications to Socket.IO, which encodes each once and fans it out through the engine's adapter
 * (all nodes), after recording them in the targeted rooms' history. Publications are delivered in the
 * order their history was written, so offsets and delivery order agree. Every publication, from every
 * surface and namespace, goes through here: one readiness check, one set of event checks, one counter.
 * Not publications, so not here: the gateway's own protocol messages (acks, `auth:*`, `joined-room`,
 * `room/user-*` presence notices) and client events one socket relays to its room (ephemeral, meta
 * `{ from, room }`).
 *
 * History is written only for rooms of the main namespace `/`, because only there can clients read it
 * back (`GET /v1/rooms/{room}/history`, the `history` socket event). A namespace publication (the
 * transaction events to `/{clientId}` and `/{clientId}/{event}`) gets the readiness check, the event
 * checks and the counter but no history: those sockets have no handler to ask for it, so their meta is
 * `{ id }` only.
 *
 * With metrics on, each publication is counted under the surface it came in through (`ok`, its duration
 * from `receivedAt` to the hand-off to the adapter, the messages it hands to this node's sockets, its
 * history appends); surfaces report the refusals they answer through {@link refused}.
 */
export class Publisher {
  private published = 0;
  private readonly delivered: Tally | undefined;
  private readonly historyAppends: Tally | undefined;

  constructor(
    private readonly io: GatewayServer,
    private readonly engine: Engine,
    private readonly metrics: Pick<Metrics, 'publishing' | 'messagesDelivered' | 'historyAppends'> | undefined,
  ) {
    this.delivered = metrics?.messagesDelivered.tally();
    this.historyAppends = metrics?.historyAppends.tally();
  }

  /** Refuses with ENGINE_UNAVAILABLE (503, Retry-After) when the engine cannot fan out right now. */
  assertReady(): void {
    if (!this.engine.isReady()) throw new GatewayError('ENGINE_UNAVAILABLE');
  }

  /**
   * Publishes one message after the checks every surface shares (engine ready, event name, data depth).
   * `surface` is what it came in through; `receivedAt` when the request arrived (`performance.now()`'s
   * clock; the call itself by default). `id` is generated unless the caller already gave the message one
   * (e.g. chat messages carry it inside).
   */
  async publish(surface: PublishSurface, event: string, data: unknown, target: Target, receivedAt?: number, id: string = randomUUID()): Promise<PublishResult> {
    const startedAt = this.metrics === undefined ? 0 : receivedAt ?? performance.now();
    this.assertReady();
    assertPublishable(event, data);
    const history = this.historyOf(target);
    // No await without history: such publications go out in the same tick, as they always did.
    const positions = history === undefined ? undefined : await history.append(target.rooms, { id, event, data, ts: Date.now() });
    this.deliver({ id, event, data, target }, positions === undefined ? { id } : { id, history: positions });
    this.published += 1;
    if (this.metrics !== undefined) {
      const meter = this.metrics.publishing[surface];
      meter.duration.observe((performance.now() - startedAt) / 1000);
      meter.outcomes.ok();
      if (positions !== undefined && this.historyAppends !== undefined) this.historyAppends.value += target.rooms.length;
    }
    return resultOf(id, target, positions);
  }

  /** Counts a publish request of `surface` that was answered with a refusal (`code`), wherever it was refused. */
  refused(surface: PublishSurface, code: string): void {
    this.metrics?.publishing[surface].outcomes.refused(code);
  }

  /** Publications so far from this node, whichever surface and namespace (`published` in `GET /v1/stats`). */
  get publishedCount(): number {
    return this.published;
  }

  /** Where the target's rooms keep history; `undefined` when nothing is kept (history off, a broadcast, other namespaces). */
  private historyOf(target: Target): HistoryStore | undefined {
    const { history } = this.engine;
    return history !== undefined && target.rooms.length > 0 && isMainNamespaceOnly(target) ? history : undefined;
  }

  private deliver({ event, data, target }: Publication, meta: DeliveryMeta): void {
    for (const name of target.namespaces) {
      const namespace = this.io.of(name);
      const base = target.broadcast ? namespace : namespace.to(target.rooms as string[]);
      const operator = target.except.length > 0 ? base.except(target.except as string[]) : base;
      operator.emit(event, data, meta);
      if (this.delivered !== undefined) this.delivered.value += localRecipients(namespace, target);
    }
  }
}

/**
 * The estimate `switchboard_messages_delivered_total` counts: this node's sockets in the target's rooms
 * (all of the namespace's for a broadcast), read from the adapter's room index — one Map lookup per room,
 * no iteration over sockets. An upper bound: a socket in two target rooms, or excepted, counts anyway.
 */
function localRecipients(namespace: ReturnType<GatewayServer['of']>, target: Target): number {
  if (target.broadcast) return namespace.sockets.size;
  const { rooms } = namespace.adapter;
  let count = 0;
  for (const room of target.rooms) count += rooms.get(room)?.size ?? 0;
  return count;
}

function resultOf(id: string, target: Target, positions: HistoryPositions | undefined): PublishResult {
  if (positions === undefined) return { id };
  const only = target.rooms.length === 1 ? positions[target.rooms[0]!] : undefined;
  return only === undefined ? { id, history: positions } : { id, history: positions, epoch: only.epoch, offset: only.offset };
}
