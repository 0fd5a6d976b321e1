/** Socket.IO's default path, which the gateway serves Engine.IO on (it does not set another). */
export const ENGINE_PATH = '/socket.io';

/**
 * Headers that mark a request that may share its connection with requests another worker must answer: a
 * browser's (`Origin`: every cross-origin request and every POST; `Cookie`: the admin dashboard's session;
 * `Sec-Fetch-Mode` / `Sec-Fetch-Site`: every request of a current browser to an HTTPS or local origin — and
 * of Node's own `fetch`, which pools one connection for every URL of an origin), and a proxy's
 * (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`, `Via`: a load balancer may reuse its connection to the
 * gateway for any client's requests, browsers' long-polling included).
 */
const SHARED_CONNECTION_HEADERS: ReadonlySet<string> = new Set([
  'origin', 'cookie', 'sec-fetch-mode', 'sec-fetch-site', 'forwarded', 'x-forwarded-for', 'x-real-ip', 'via',
]);

/** The headers a backend's credential comes in. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'x-api-key']);

/** The methods of the HTTP API's writes (a publish, a disconnect, a webhook registration). */
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One HTTP request's head: its method, target and headers as Node's `rawHeaders` has them (names and values alternating, names in any case). */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly rawHeaders: readonly string[];
}

/**
 * Whether a request must reach a particular worker, or may share its connection with one that must: an
 * Engine.IO request, one with `sid=` anywhere in its head (what `@socket.io/sticky` routes by, and the admin
 * dashboard's pin), or one with a {@link SHARED_CONNECTION_HEADERS} header. Such a request goes through
 * sticky, request by request, and is answered with `Connection: close`.
 */
export function needsSticky(head: RequestHead, enginePath: string): boolean {
  if (head.target.startsWith(enginePath) || head.target.includes('sid=')) return true;
  const { rawHeaders } = head;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (SHARED_CONNECTION_HEADERS.has(rawHeaders[i]!.toLowerCase()) || rawHeaders[i + 1]!.includes('sid=')) return true;
  }
  return false;
}

/**
 * Whether a connection's first request is a backend's, talking to this machine directly: a write to the HTTP
 * API (POST, PUT, PATCH, DELETE) carrying a credential (`Authorization` or `X-Api-Key`) that does not
 * {@link needsSticky}. The WORKERS primary hands such a connection to a worker whole (keep-alive kept).
 */
export function isBackendRequest(head: RequestHead, enginePath: string): boolean {
  if (!WRITE_METHODS.has(head.method)) return false;
  const credential = head.rawHeaders.some((part, i) => i % 2 === 0 && CREDENTIAL_HEADERS.has(part.toLowerCase()));
  return credential && !needsSticky(head, enginePath);
}

/** The head of the request a connection's first chunk starts with; undefined when the chunk does not hold all of it. */
export function firstRequestHead(chunk: Buffer): RequestHead | undefined {
  const end = chunk.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [requestLine = '', ...lines] = chunk.subarray(0, end).toString('latin1').split('\r\n');
  // Node's parser takes several spaces between the parts: the target is the second non-empty one.
  const parts = /^(\S+) +(\S+) +HTTP\/\S+$/.exec(requestLine);
  if (parts === null) return undefined;
  const rawHeaders = lines.flatMap((line) => {
    const colon = line.indexOf(':');
    return colon < 0 ? [line, ''] : [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
  });
  return { method: parts[1]!, target: parts[2]!, rawHeaders };
}
