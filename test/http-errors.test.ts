import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, type ErrorCode } from '../src/protocol/errors.js';
import { startGateway, TEST_API_KEY } from './support/gateway.js';
import { parseResponse, sendRaw } from './support/raw-http.js';

const AUTH = `Authorization: Bearer ${TEST_API_KEY}\r\n`;

/** Requests no HTTP client would send, each with the catalog answer it must get. */
const MALFORMED: [name: string, request: Buffer, code: ErrorCode][] = [
  [
    'raw non-ASCII bytes in the request line (the README\'s history example, copied with its ellipsis)',
    Buffer.concat([Buffer.from('GET /v1/rooms/x/history?epoch=5d0c'), Buffer.from('…é', 'utf8'), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`)]),
    'MALFORMED_REQUEST',
  ],
  ['a request line that is not HTTP', Buffer.from('GARBAGE\r\n\r\n'), 'MALFORMED_REQUEST'],
  ['an unknown method', Buffer.from('BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n'), 'MALFORMED_REQUEST'],
  ['headers over the limit', Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 'HEADERS_TOO_LARGE'],
  [
    'a broken chunk size',
    Buffer.from(`POST /v1/publish HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`),
    'MALFORMED_REQUEST',
  ],
  ['Content-Length with Transfer-Encoding', Buffer.from(`POST /v1/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`), 'MALFORMED_REQUEST'],
  ['two Content-Lengths', Buffer.from('POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'), 'MALFORMED_REQUEST'],
  ['an HTTP/1.1 request without Host', Buffer.from('GET /healthz HTTP/1.1\r\n\r\n'), 'MALFORMED_REQUEST'],
  ['an Expect other than 100-continue', Buffer.from(`POST /v1/publish HTTP/1.1\r\nHost: x\r\n${AUTH}Expect: teapot\r\nContent-Length: 2\r\n\r\n{}`), 'EXPECTATION_FAILED'],
  ['a bad URL encoding in the path', Buffer.from(`GET /v1/rooms/%zz/presence HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`), 'INVALID_QUERY'],
  [
    'a chunked body of no media type on a bodiless DELETE',
    Buffer.from(`DELETE /client?clientId=abc HTTP/1.1\r\nHost: x\r\n${AUTH}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`),
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'a chunked non-JSON body on a bodiless DELETE',
    Buffer.from(`DELETE /client?clientId=abc HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`),
    'INVALID_JSON',
  ],
];

describe('every 4xx the HTTP server gives has the catalog shape, also for what Node\'s parser refuses', () => {
  it.each(MALFORMED)('%s', async (_name, request, code) => {
    const node = await startGateway({ LOG_LEVEL: 'trace' });
    const response = parseResponse(await sendRaw(node.url, request));

    expect(response.status).toBe(ERROR_CATALOG[code].status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)));
    const body = JSON.parse(response.body) as { error: Record<string, unknown> };
    expect(body).toEqual({ error: { code, message: expect.any(String) } });
    // The node is unharmed, and its log (at trace) holds nothing of the request's bytes, which may hold a key.
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    const text = node.logs.join('\n');
    expect(text).not.toContain(TEST_API_KEY);
    expect(text).not.toContain([...Buffer.from(TEST_API_KEY)].join(','));
  });
});
