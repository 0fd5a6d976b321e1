import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, GatewayError, retryAfterOf, type ErrorCode } from '../src/protocol/errors.js';

/** The document whose table lists every error code. */
const ERRORS_DOC = new URL('../docs/errors.md', import.meta.url);

/** The rows of the error table in {@link ERRORS_DOC}: code, HTTP status and the retry column. */
function documentedErrors(): { code: string; status: number; retry: string }[] {
  const text = readFileSync(ERRORS_DOC, 'utf8');
  return [...text.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| ([^|]+) \|/gm)]
    .map((match) => ({ code: match[1]!, status: Number(match[2]), retry: match[3]!.trim() }));
}

const codes = Object.keys(ERROR_CATALOG) as ErrorCode[];

describe('error catalog', () => {
  it('is documented in docs/errors.md, code for code, with the same HTTP status', () => {
    const documented = Object.fromEntries(documentedErrors().map(({ code, status }) => [code, status]));
    const catalog = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([code, entry]) => [code, entry.status]));
    expect(documented).toEqual(catalog);
  });

  it("documents each code's retry hint: `transient, after N s` with the catalog's default wait, or `final`", () => {
    const documented = Object.fromEntries(documentedErrors().map(({ code, retry }) => [code, retry]));
    const catalog = Object.fromEntries(codes.map((code) => {
      const afterS = retryAfterOf(code);
      return [code, afterS === undefined ? 'final' : `transient, after ${afterS} s`];
    }));
    expect(documented).toEqual(catalog);
  });

  it('gives a refusal the catalog retry hint unless the throw site passes its own', () => {
    expect(new GatewayError('ENGINE_UNAVAILABLE').retryAfterS).toBe(1);
    expect(new GatewayError('AUTH_UNAVAILABLE').retryAfterS).toBe(1);
    expect(new GatewayError('TOKEN_INVALID').retryAfterS).toBeUndefined();
    expect(new GatewayError('RATE_LIMITED', undefined, { retryAfterS: 42 }).retryAfterS).toBe(42);
  });

  it('puts the retry hint into the body of a transient refusal only (HTTP bodies, socket acks, connect_error data)', () => {
    expect(new GatewayError('ENGINE_UNAVAILABLE').toBody()).toEqual({ code: 'ENGINE_UNAVAILABLE', message: ERROR_CATALOG.ENGINE_UNAVAILABLE.message, retryAfterS: 1 });
    expect(new GatewayError('RATE_LIMITED', 'wait', { retryAfterS: 42 }).toBody()).toEqual({ code: 'RATE_LIMITED', message: 'wait', retryAfterS: 42 });
    expect(new GatewayError('TOKEN_INVALID').toBody()).toEqual({ code: 'TOKEN_INVALID', message: ERROR_CATALOG.TOKEN_INVALID.message });
    for (const code of codes) expect('retryAfterS' in new GatewayError(code).toBody()).toBe(retryAfterOf(code) !== undefined);
  });
});
