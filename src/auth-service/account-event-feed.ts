import type { Logger } from 'pino';
import type { AccountEvent, AccountStore } from '../stores/account-store.js';

/** Events read per poll; a backlog is read over several polls. */
const BATCH = 100;
/** Sessions and events older than this are pruned (once an hour, by every node; pruning is idempotent). */
const KEEP_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

/**
 * Polls the account store's event feed every ACCOUNT_EVENTS_POLL_MS and hands each new event to `apply`:
 * how a change made outside any node (the `users` CLI disabling a user) reaches every node's sockets,
 * with SQLite and PostgreSQL alike. Starts at the newest event, so a restarted node does not replay old ones.
 */
export class AccountEventFeed {
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastPrune = 0;

  constructor(
    private readonly store: AccountStore,
    private readonly pollMs: number,
    private readonly apply: (event: AccountEvent) => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.cursor = await this.store.latestEventId();
    this.lastPrune = Date.now();
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => (this.polling = undefined));
    }, this.pollMs);
    this.timer.unref();
  }

  /** Stops polling; waits for a poll in progress, but not past a second (a store that hangs must not hold up shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.polling, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
  }

  private async poll(): Promise<void> {
    try {
      for (const event of await this.store.eventsAfter(this.cursor, BATCH)) {
        this.cursor = event.id;
        this.apply(event);
      }
      if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = Date.now();
        await this.store.prune(Date.now() - KEEP_MS);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'account events could not be read; retrying');
    }
  }
}
