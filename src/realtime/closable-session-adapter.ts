import type { Namespace } from 'socket.io';
import { SessionAwareAdapter } from 'socket.io-adapter';

/**
 * Socket.IO's built-in one-node adapter with connection-state recovery (socket.io-adapter's
 * `SessionAwareAdapter`), whose `close()` also stops the sweep timer the constructor starts. Upstream never
 * clears that timer (socket.io-adapter 2.5): every namespace ever closed — a client namespace its last
 * socket left — would stay reachable from it, with its adapter, for the life of the process.
 */
export class ClosableSessionAwareAdapter extends SessionAwareAdapter {
  private readonly sweep: ReturnType<typeof setInterval> | undefined;

  constructor(namespace: Namespace) {
    // The constructor keeps its timer in a local: catch it as it is started (synchronously, by this call only).
    const started: ReturnType<typeof setInterval>[] = [];
    const setIntervalOfNode = globalThis.setInterval;
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
      const timer = setIntervalOfNode(...args);
      started.push(timer);
      return timer;
    }) as typeof setInterval;
    try {
      super(namespace);
    } finally {
      globalThis.setInterval = setIntervalOfNode;
    }
    this.sweep = started[0];
  }

  override close(): void {
    clearInterval(this.sweep);
    super.close();
  }
}
