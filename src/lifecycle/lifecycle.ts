/**
 * The node's life: `starting` → `ready` → `draining` → `stopped`. `/readyz` answers 200 only when `ready`
 * and the engine is ready; handshakes are refused once draining.
 */
export type LifecyclePhase = 'starting' | 'ready' | 'draining' | 'stopped';

export class Lifecycle {
  private current: LifecyclePhase = 'starting';
  readonly startedAt = Date.now();

  get phase(): LifecyclePhase {
    return this.current;
  }

  get isDraining(): boolean {
    return this.current === 'draining' || this.current === 'stopped';
  }

  enter(phase: LifecyclePhase): void {
    this.current = phase;
  }
}
