import type { Logger } from 'pino';
import { GatewayError } from '../protocol/errors.js';
import type { UserVerifier, VerifiedUser } from './user-verifier.js';

/** The statuses that mean "no such user or wrong password" (anything else unexpected is an outage). */
const REFUSALS = new Set([400, 401, 403, 404, 422]);

/**
 * VERIFY_USER_URL: your backend decides. Switchboard POSTs `{ username, password }` as JSON; `200` with
 * `{ id, role?, permissions? }` means yes, 400/401/403/404/422 mean no, anything else (or no answer within
 * VERIFY_USER_TIMEOUT_MS) is AUTH_UNAVAILABLE (503). Redirects are not followed; the password is never logged.
 */
export class RemoteUserVerifier implements UserVerifier {
  readonly name = 'remote';
  readonly managesPasswords = false;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async verify(username: string, password: string): Promise<VerifiedUser | undefined> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ username, password }),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      this.logger.warn({ reason: timedOut ? 'timeout' : 'unreachable' }, 'VERIFY_USER_URL did not answer');
      throw new GatewayError('AUTH_UNAVAILABLE', 'The user could not be verified right now; try again');
    }
    if (REFUSALS.has(response.status)) {
      await response.body?.cancel();
      return undefined;
    }
    const body: unknown = response.status === 200 ? await response.json().catch(() => undefined) : undefined;
    const user = response.status === 200 ? toVerifiedUser(body) : undefined;
    if (user === undefined) {
      await response.body?.cancel().catch(() => undefined);
      this.logger.warn({ status: response.status }, 'VERIFY_USER_URL answered something else than 200 { id } or a refusal');
      throw new GatewayError('AUTH_UNAVAILABLE', 'The user could not be verified right now; try again');
    }
    return user;
  }
}

function toVerifiedUser(body: unknown): VerifiedUser | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { id, role, permissions, disabled } = body as Record<string, unknown>;
  const userId = typeof id === 'number' && Number.isFinite(id) ? String(id) : id;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) return undefined;
  return {
    id: userId,
    role: typeof role === 'string' && role.length > 0 ? role : 'user',
    permissions: Array.isArray(permissions) ? permissions.filter((p): p is string => typeof p === 'string' && p.length > 0) : [],
    disabled: disabled === true,
  };
}
