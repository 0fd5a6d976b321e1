/** Socket.IO's default path, which the gateway serves Engine.IO on (it does not set another). */
export const ENGINE_PATH = '/socket.io';

/**
 * The headers that mark a browser's request (or one with a session to route by): `Origin` (every
 * cross-origin request, every POST), `Cookie` (the admin dashboard's session), `Sec-Fetch-Mode` and
 * `Sec-Fetch-Site` (every request of a current browser). Node's own `fetch` (undici) sends `Sec-Fetch-Mode`
 * too, so its connections stay on sticky's path: it pools connections for every URL of an origin, a
 * backend's publishes and a script's admin or long-polling requests alike.
 */
const BROWSER_HEADERS: ReadonlySet<string> = new Set(['origin', 'cookie', 'sec-fetch-mode', 'sec-fetch-site']);

/** One HTTP request's head, as {@link isBackendRequest} reads it: its target and its headers (names in any case). */
export interface RequestHead {
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
}

/**
 * Whether a request is a backend's (a server SDK, curl): outside the Engine.IO path, with no `sid=` anywhere
 * in its head (what `@socket.io/sticky` routes by, and the admin dashboard's pin) and none of the
 * {@link BROWSER_HEADERS}. The WORKERS primary hands a connection whose first request is one to a worker
 * whole (keep-alive kept); every other goes through sticky, request by request, because a browser reuses one
 * connection for requests of sessions held by different workers.
 */
export function isBackendRequest(head: RequestHead, enginePath: string): boolean {
  if (head.target.startsWith(enginePath) || head.target.includes('sid=')) return false;
  return head.headers.every(([name, value]) => !BROWSER_HEADERS.has(name.toLowerCase()) && !value.includes('sid='));
}

/** The head of the request a connection's first chunk starts with; undefined when the chunk does not hold all of it. */
export function firstRequestHead(chunk: Buffer): RequestHead | undefined {
  const end = chunk.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [requestLine = '', ...lines] = chunk.subarray(0, end).toString('latin1').split('\r\n');
  const target = requestLine.split(' ')[1];
  if (target === undefined) return undefined;
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return colon < 0 ? [line, ''] : [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
  });
  return { target, headers };
}

/** The head of a request the worker's HTTP server parsed (`rawHeaders` alternates names and values). */
export function parsedRequestHead(target: string, rawHeaders: readonly string[]): RequestHead {
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.push([rawHeaders[i] ?? '', rawHeaders[i + 1] ?? '']);
  return { target, headers };
}
