import type { WebhookSender } from './webhook-sender.js';

/** The events backends can subscribe to with WEBHOOK_URL, as Pusher users know them. */
export type BackendWebhookEvent = 'room.occupied' | 'room.vacated' | 'member.added' | 'member.removed' | 'client.event';

/**
 * Backend webhooks: each event is POSTed to WEBHOOK_URL as `{ event, ...details, ts }`, signed with
 * WEBHOOK_SECRET, through the shared {@link WebhookSender} (retries, timeouts, bounded queue).
 */
export class BackendWebhooks {
  constructor(
    private readonly sender: WebhookSender,
    private readonly url: string,
  ) {}

  notify(event: BackendWebhookEvent, details: Record<string, unknown>): void {
    this.sender.send(this.url, { event, ...details, ts: Date.now() });
  }
}
