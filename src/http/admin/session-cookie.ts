import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The admin session cookie's name. Not `__Host-`: that prefix demands `Path=/`, and this cookie goes to
 * `/admin` only. It ends in `sid` because a WORKERS primary (`@socket.io/sticky`) routes a request by the
 * first `sid=` and 20 id characters in its head, as it routes a long-polling request by its `?sid=`: so
 * every request of a dashboard reaches the worker holding its session (src/runtime/pool-worker.ts).
 */
export const SESSION_COOKIE = 'switchboard_admin_sid';

/** Where the cookie is sent: the dashboard's pages, assets, API and feed, and nothing else of the gateway. */
export const COOKIE_PATH = '/admin';

/** The session id a request's `Cookie` header carries; `undefined` without one. */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === SESSION_COOKIE) {
      const value = pair.slice(at + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

/**
 * Sets the session cookie: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends
 * it), `Path=/admin`, `Secure` when the request came over https (`X-Forwarded-Proto` under TRUST_PROXY),
 * expiring with the session. `maxAgeS` 0 deletes it.
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeS: number): void {
  const attributes = [`${SESSION_COOKIE}=${value}`, `Path=${COOKIE_PATH}`, `Max-Age=${maxAgeS}`, 'HttpOnly', 'SameSite=Strict'];
  if (request.protocol === 'https') attributes.push('Secure');
  void reply.header('set-cookie', attributes.join('; '));
}
