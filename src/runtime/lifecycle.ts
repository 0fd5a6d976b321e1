/**
 * The node's life: `starting` → `ready` → `draining` (readiness off, handshakes refused, HTTP still served)
 * → `closing` (clients closed, HTTP answers SHUTTING_DOWN while in-flight requests finish) → `stopped`.
 */
export type LifecyclePhase = 'starting' | 'ready' | 'draining' | 'closing' | 'stopped';

export class Lifecycle {
  private current: LifecyclePhase = 'starting';
  readonly startedAt = Date.now();

  get phase(): LifecyclePhase {
    return this.current;
  }

  get isDraining(): boolean {
    return this.current !== 'starting' && this.current !== 'ready';
  }

  enter(phase: LifecyclePhase): void {
    this.current = phase;
  }
}
