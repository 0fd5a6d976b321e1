import { randomUUID } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import { GatewayError } from '../errors/catalog.js';
import { assertPublishable, type Publication, type Target } from './publication.js';
import type { GatewayServer } from '../types/socket.js';

/** What a publish answers: the message id clients receive as `meta.id`. */
export interface PublishResult {
  readonly id: string;
}

/**
 * Hands publications to Socket.IO, which encodes each once and fans it out through the engine's adapter
 * (all nodes). Clients receive `(data, meta)` where `meta` is `{ id }`.
 */
export class Publisher {
  private published = 0;

  constructor(
    private readonly io: GatewayServer,
    private readonly engine: Engine,
  ) {}

  /** Refuses with ENGINE_UNAVAILABLE (503, Retry-After) when the engine cannot fan out right now. */
  assertReady(): void {
    if (!this.engine.isReady()) throw new GatewayError('ENGINE_UNAVAILABLE', undefined, { retryAfterS: 1 });
  }

  /** Publishes one message after the checks every surface shares (engine ready, event name, data depth). */
  publish(event: string, data: unknown, target: Target): PublishResult {
    this.assertReady();
    assertPublishable(event, data);
    const publication: Publication = { id: randomUUID(), event, data, target };
    this.deliver(publication);
    this.published += 1;
    return { id: publication.id };
  }

  get publishedCount(): number {
    return this.published;
  }

  private deliver({ id, event, data, target }: Publication): void {
    const base = target.broadcast ? this.io : this.io.to(target.rooms as string[]);
    const operator = target.except.length > 0 ? base.except(target.except as string[]) : base;
    operator.emit(event, data, { id });
  }
}
