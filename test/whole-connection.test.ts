import { describe, expect, it } from 'vitest';
import { ENGINE_PATH, firstRequestHead, isBackendRequest } from '../src/runtime/whole-connection.js';

/** The WORKERS primary's rule for handing a connection to a worker whole: a backend's first request, read from its first chunk. */
describe('a backend request (WORKERS hands its connection over whole)', () => {
  const backend = (text: string) => {
    const head = firstRequestHead(Buffer.from(text, 'latin1'));
    return head !== undefined && isBackendRequest(head, ENGINE_PATH);
  };

  it("is an API write with a credential, outside the Engine.IO path, with none of a browser's or a proxy's headers and no sid=", () => {
    expect(backend('POST /v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\n\r\n{}')).toBe(true);
    expect(backend('DELETE /v1/webhooks/a HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n\r\n')).toBe(true);
  });

  it('is not a read, nor a write without a credential (a page of a browser on plain HTTP sends neither Origin nor Sec-Fetch-* with its GETs)', () => {
    expect(backend('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(false);
    expect(backend('GET /v1/stats HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n')).toBe(false);
    expect(backend('POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}')).toBe(false);
  });

  it("is not one a proxy forwarded: a load balancer may reuse its connection for any client's requests", () => {
    for (const header of ['X-Forwarded-For: 10.0.0.1', 'forwarded: for=10.0.0.1', 'X-Real-IP: 10.0.0.1', 'Via: 1.1 lb']) {
      expect(backend(`POST /v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n${header}\r\n\r\n`)).toBe(false);
    }
  });

  it('reads the target past several spaces, as Node does, so a session id cannot hide behind them', () => {
    expect(firstRequestHead(Buffer.from('POST  /socket.io/?EIO=4&sid=abc  HTTP/1.1\r\nHost: x\r\n\r\n'))?.target).toBe('/socket.io/?EIO=4&sid=abc');
    expect(backend('POST  /socket.io/?EIO=4&sid=abc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n')).toBe(false);
    expect(firstRequestHead(Buffer.from('POST /v1/publish\r\nHost: x\r\n\r\n'))).toBeUndefined();
  });

  it('is not an Engine.IO request, one carrying sid= (in the target or a header) or a browser header in any case', () => {
    const auth = 'Authorization: Bearer k';
    expect(backend(`POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n${auth}\r\n\r\n`)).toBe(false);
    expect(backend(`POST /v1/publish?sid=abc HTTP/1.1\r\nHost: x\r\n${auth}\r\n\r\n`)).toBe(false);
    expect(backend(`POST /admin/api/session HTTP/1.1\r\n${auth}\r\nX-Thing: switchboard_admin_sid=abc\r\n\r\n`)).toBe(false);
    for (const header of ['Origin: http://a', 'cookie: a=b', 'Sec-Fetch-Mode: cors', 'sec-fetch-site: same-origin']) {
      expect(backend(`POST /v1/publish HTTP/1.1\r\nHost: x\r\n${auth}\r\n${header}\r\n\r\n`)).toBe(false);
    }
  });

  it('is not known from a first chunk that does not hold the whole head', () => {
    expect(firstRequestHead(Buffer.from('POST /v1/publish HTTP/1.1\r\nHost: x\r\n'))).toBeUndefined();
  });
});
