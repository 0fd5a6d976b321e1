import { decodeJwt } from 'jose';
import type { AccountStore } from '../../src/stores/account-store.js';
import { hashPassword } from '../../src/auth-service/passwords.js';
import { api, startGateway, type ApiResponse, type TestGateway } from './gateway.js';
import { freshDir } from './temp.js';

export const ACCESS_TOKEN_SECRET = 'test-access-secret-2f9d1c7b5a3e8f60';
export const REFRESH_TOKEN_SECRET = 'test-refresh-secret-7a1e4c9b2d6f3a85';
export const ACCESS_KEY = 'test-access-key-0c4e8a2f';

/** The user most tests log in as. */
export const ALICE = { username: 'alice', password: 'correct horse battery' } as const;

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: string;
}

export interface AuthGateway extends TestGateway {
  /** The auth service's base URL (its own port, or `…/auth`). */
  readonly authUrl: string;
  readonly dataDir: string;
}

/**
 * A gateway with the auth service on (its own port 0 unless `env` says otherwise), verifying clients with
 * ACCESS_TOKEN_SECRET (no JWT_SECRET), its SQLite store in a fresh DATA_DIR.
 */
export async function startAuthGateway(env: Record<string, string> = {}): Promise<AuthGateway> {
  const dataDir = env.DATA_DIR ?? freshDir('auth');
  const gateway = await startGateway({
    JWT_SECRET: '',
    ACCESS_TOKEN_SECRET,
    REFRESH_TOKEN_SECRET,
    ACCESS_KEY,
    AUTH_PORT: '0',
    ACCOUNT_EVENTS_POLL_MS: '100',
    DATA_DIR: dataDir,
    ...env,
  });
  const authUrl = gateway.gateway.authUrl;
  if (authUrl === undefined) throw new Error('the auth service did not start');
  return { ...gateway, authUrl, dataDir };
}

/** Adds a user to the store with a real argon2id hash. */
export async function addUser(store: AccountStore, username: string, password: string, options: { role?: string; permissions?: string[] } = {}): Promise<void> {
  await store.addUser({ username, passwordHash: await hashPassword(password), role: options.role ?? 'user', permissions: options.permissions ?? [] }, Date.now());
}

/** `POST /login` without any API key. */
export function login(authUrl: string, body: Record<string, unknown>): Promise<ApiResponse<TokenPair & { error?: { code: string } }>> {
  return api<TokenPair & { error?: { code: string } }>(authUrl, '/login', { body, key: null });
}

/** Logs in and fails the test unless it worked. */
export async function loginOk(authUrl: string, body: Record<string, unknown>): Promise<TokenPair> {
  const response = await login(authUrl, body);
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** `POST /token { token }`. */
export function refresh(authUrl: string, token: string): Promise<ApiResponse<TokenPair & { error?: { code: string } }>> {
  return api<TokenPair & { error?: { code: string } }>(authUrl, '/token', { body: { token }, key: null });
}

/** `DELETE /logout { token }`. */
export function logout(authUrl: string, token: string): Promise<ApiResponse> {
  return api(authUrl, '/logout', { method: 'DELETE', body: { token }, key: null });
}

/** The session id an access token names. */
export function sessionOf(accessToken: string): string {
  return String(decodeJwt(accessToken).session_id);
}
