import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How Switchboard signs a webhook request, so a receiver can tell it came from this gateway and is fresh.
 *
 * Every delivery attempt carries:
 * - `X-Switchboard-Timestamp`: the attempt's time, Unix seconds (a decimal integer);
 * - `X-Switchboard-Signature`: `sha256=` followed by the lowercase hex HMAC-SHA256, keyed with the webhook
 *   secret (its UTF-8 bytes), of the UTF-8 bytes of `${timestamp}.${body}` — the timestamp header's value,
 *   one `.`, and the request body exactly as received (do not re-serialise the parsed JSON);
 * - `X-Switchboard-Delivery`: a uuid, the same on every retry of one delivery, for de-duplication.
 *
 * A receiver recomputes the HMAC over the raw body, compares it in constant time, and refuses timestamps
 * more than a few minutes from its clock (replays). Retries are signed afresh with a new timestamp.
 * Deliveries sent without a configured secret carry no signature header.
 */
export const SIGNATURE_HEADER = 'X-Switchboard-Signature';
export const TIMESTAMP_HEADER = 'X-Switchboard-Timestamp';
export const DELIVERY_HEADER = 'X-Switchboard-Delivery';

/** The `X-Switchboard-Signature` value for `body` sent at `timestampS` (Unix seconds). */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * Checks a received webhook the way a receiver should: the signature in constant time, and the timestamp
 * within `toleranceS` (default 300) of `nowS`. For receivers written in TypeScript and for the tests.
 */
export function verifyWebhookSignature(
  secret: string,
  received: { signature: string; timestamp: string; body: string },
  options: { toleranceS?: number; nowS?: number } = {},
): boolean {
  if (!/^\d{1,12}$/.test(received.timestamp)) return false;
  const timestampS = Number(received.timestamp);
  const nowS = options.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - timestampS) > (options.toleranceS ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, timestampS, received.body));
  const actual = Buffer.from(received.signature);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
