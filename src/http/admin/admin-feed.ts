import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AdminSession } from './admin-sessions.js';
import type { AdminSnapshot } from './admin-snapshot.js';

/** Why a feed ended, as its last event tells the page. */
export type FeedEnd = 'expired' | 'signed-out' | 'shutting-down';

interface Subscriber {
  readonly session: AdminSession;
  readonly response: ServerResponse;
  /** The socket's buffer is full: snapshots are skipped until it drains (a newer one follows anyway). */
  blocked: boolean;
}

/**
 * The dashboard's live feed: Server-Sent Events, one `snapshot` event per tick to every open page. The
 * snapshot is read once per tick for all of them, and only while at least one page is open; a tick
 * that finds the previous read still running is skipped. A page whose session has ended gets an `end`
 * event (`expired`, `signed-out`, `shutting-down`) and its stream is closed; a slow page misses
 * snapshots rather than queueing them.
 */
export class AdminFeed {
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly read: () => Promise<AdminSnapshot>,
    private readonly isLive: (session: AdminSession) => boolean,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Streams to `response` (already answered 200 `text/event-stream`) until the page leaves or the session ends. */
  open(session: AdminSession, response: ServerResponse): void {
    const subscriber: Subscriber = { session, response, blocked: false };
    this.subscribers.add(subscriber);
    // EventSource reconnects after a dropped stream; two seconds is close to one tick.
    response.write('retry: 2000\n\n');
    response.on('close', () => this.drop(subscriber));
    response.on('drain', () => {
      subscriber.blocked = false;
    });
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  /** Ends the streams of one session (it signed out) or, without one, all of them (the node is closing). */
  end(reason: FeedEnd, sessionId?: string): void {
    for (const subscriber of [...this.subscribers]) {
      if (sessionId === undefined || subscriber.session.id === sessionId) this.finish(subscriber, reason);
    }
  }

  private async tick(): Promise<void> {
    if (this.reading) return;
    for (const subscriber of [...this.subscribers]) if (!this.isLive(subscriber.session)) this.finish(subscriber, 'expired');
    if (this.subscribers.size === 0) return;
    this.reading = true;
    try {
      const frame = `event: snapshot\ndata: ${JSON.stringify(await this.read())}\n\n`;
      for (const subscriber of this.subscribers) {
        if (!subscriber.blocked) subscriber.blocked = !subscriber.response.write(frame);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'admin snapshot failed');
    } finally {
      this.reading = false;
    }
  }

  private finish(subscriber: Subscriber, reason: FeedEnd): void {
    subscriber.response.end(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
    this.drop(subscriber);
  }

  private drop(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
