import { describe, expect, it } from 'vitest';
import { ENGINE_PATH, firstRequestHead, isBackendRequest } from '../src/runtime/whole-connection.js';

/** The WORKERS primary's rule for handing a connection to a worker whole: a backend's first request, read from its first chunk. */
describe('a backend request (WORKERS hands its connection over whole)', () => {
  const backend = (text: string) => {
    const head = firstRequestHead(Buffer.from(text, 'latin1'));
    return head !== undefined && isBackendRequest(head, ENGINE_PATH);
  };

  it("is one outside the Engine.IO path with none of a browser's headers and no sid=", () => {
    expect(backend('POST /v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\n\r\n{}')).toBe(true);
    expect(backend('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(true);
  });

  it('is not an Engine.IO request, one carrying sid= (in the target or a header) or a browser header in any case', () => {
    expect(backend('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(false);
    expect(backend('GET /v1/stats?sid=abc HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(false);
    expect(backend('GET /admin/api/session HTTP/1.1\r\nX-Thing: switchboard_admin_sid=abc\r\n\r\n')).toBe(false);
    for (const header of ['Origin: http://a', 'cookie: a=b', 'Sec-Fetch-Mode: cors', 'sec-fetch-site: same-origin']) {
      expect(backend(`POST /v1/publish HTTP/1.1\r\nHost: x\r\n${header}\r\n\r\n`)).toBe(false);
    }
  });

  it('is not known from a first chunk that does not hold the whole head', () => {
    expect(firstRequestHead(Buffer.from('POST /v1/publish HTTP/1.1\r\nHost: x\r\n'))).toBeUndefined();
  });
});
