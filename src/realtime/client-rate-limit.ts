import type { GatewaySocket } from '../protocol/socket-types.js';

/** Per-socket bucket state, created on a socket's first client event (most sockets never send any). */
interface Bucket {
  tokens: number;
  refilledAt: number;
  /** Events refused since the bucket last had tokens; past the limit the socket is disconnected. */
  refused: number;
}

const buckets = new WeakMap<GatewaySocket, Bucket>();

/**
 * Rate-limits what each socket sends (CLIENT_EVENTS_PER_SECOND, bursts of twice that): a token bucket per
 * socket, kept in a WeakMap so it dies with the socket. An event over the limit is refused
 * (`RATE_LIMITED`); a socket that keeps sending while refused — another full burst of refused events — is
 * disconnected as a flooder.
 */
export class ClientRateLimiter {
  private readonly burst: number;

  constructor(private readonly perSecond: number) {
    this.burst = perSecond * 2;
  }

  /** `'ok'` to handle the event, `'refused'` to answer RATE_LIMITED, `'flooding'` to disconnect. */
  take(socket: GatewaySocket, now = Date.now()): 'ok' | 'refused' | 'flooding' {
    let bucket = buckets.get(socket);
    if (bucket === undefined) buckets.set(socket, (bucket = { tokens: this.burst, refilledAt: now, refused: 0 }));
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * this.perSecond);
    bucket.refilledAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.refused = 0;
      return 'ok';
    }
    bucket.refused += 1;
    return bucket.refused > this.burst ? 'flooding' : 'refused';
  }
}
