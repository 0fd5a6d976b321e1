import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../protocol/errors.js';
import { MAX_NAME_LENGTH } from '../protocol/names.js';

/** What a valid join token grants. */
export interface JoinGrant {
  readonly channel: string;
  /** The token's `data` (e.g. `{ webhook_url }`). */
  readonly data: unknown;
  /** Unix seconds after which the token is refused. */
  readonly expiresAt: number;
}

const MD5_HEX = 32;
const SHA256_HEX = 64;

/**
 * Seed 001's join token: base64 of the JSON `{ channel, timestamp, data }` followed by a hex signature of
 * `json + apiKey` — MD5 exactly as the seed's `generateJoinToken` (CryptoJS) makes it, or the stronger
 * HMAC-SHA256(key = apiKey, message = json) Switchboard mints. `timestamp` is the expiry in Unix seconds.
 * Signatures are compared in constant time against every configured key.
 */
export function verifyJoinToken(token: unknown, keys: readonly string[], nowS = Math.floor(Date.now() / 1000)): JoinGrant {
  if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) {
    throw new GatewayError('JOIN_TOKEN_INVALID', 'A join token is a non-empty base64 string');
  }
  const text = Buffer.from(token, 'base64').toString('utf8');
  const signed = splitSignature(text);
  if (signed === undefined || !keys.some((key) => sameHex(signed.signature, sign(signed.json, key, signed.signature.length)))) {
    throw new GatewayError('JOIN_TOKEN_INVALID', 'The join token signature does not verify');
  }
  const claims = parseClaims(signed.json);
  if (claims.timestamp < nowS) throw new GatewayError('JOIN_TOKEN_EXPIRED');
  return { channel: claims.channel, data: claims.data, expiresAt: claims.timestamp };
}

/** Mints the HMAC-SHA256 variant for `channel`, valid `ttlS` seconds. */
export function signJoinToken(channel: string, data: unknown, ttlS: number, key: string, nowS = Math.floor(Date.now() / 1000)): { token: string; expiresAt: number } {
  const expiresAt = nowS + ttlS;
  const json = JSON.stringify({ channel, timestamp: expiresAt, data: data ?? {} });
  return { token: Buffer.from(json + sign(json, key, SHA256_HEX)).toString('base64'), expiresAt };
}

function sign(json: string, key: string, hexLength: number): string {
  return hexLength === MD5_HEX
    ? createHash('md5').update(json + key).digest('hex')
    : createHmac('sha256', key).update(json).digest('hex');
}

/** The JSON ends with `}`; what follows is the hex signature, 64 (HMAC-SHA256) or 32 (MD5) characters. */
function splitSignature(text: string): { json: string; signature: string } | undefined {
  const end = text.lastIndexOf('}');
  if (end < 0) return undefined;
  const signature = text.slice(end + 1);
  if ((signature.length !== SHA256_HEX && signature.length !== MD5_HEX) || !/^[0-9a-f]+$/.test(signature)) return undefined;
  return { json: text.slice(0, end + 1), signature };
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'latin1');
  const right = Buffer.from(b, 'latin1');
  return left.length === right.length && timingSafeEqual(left, right);
}

function parseClaims(json: string): { channel: string; timestamp: number; data: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new GatewayError('JOIN_TOKEN_INVALID', 'The join token does not hold valid JSON');
  }
  const claims = value as { channel?: unknown; timestamp?: unknown; data?: unknown } | null;
  if (typeof claims !== 'object' || claims === null || typeof claims.channel !== 'string' || claims.channel.length === 0
    || claims.channel.length > MAX_NAME_LENGTH
    || typeof claims.timestamp !== 'number' || !Number.isFinite(claims.timestamp)) {
    throw new GatewayError('JOIN_TOKEN_INVALID', 'The join token needs a channel and a numeric timestamp');
  }
  return { channel: claims.channel, timestamp: claims.timestamp, data: claims.data };
}
