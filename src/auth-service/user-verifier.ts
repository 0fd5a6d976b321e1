import type { AccountStore } from '../stores/account-store.js';
import { MAX_PASSWORD_LENGTH, verifyAgainstDummy, verifyPassword } from './passwords.js';

/** Who a username/password belongs to, as the verifier decided. */
export interface VerifiedUser {
  readonly id: string;
  readonly role: string;
  readonly permissions: readonly string[];
  /** A disabled user gets USER_DISABLED (only after the right password, so it reveals nothing). */
  readonly disabled: boolean;
}

/**
 * Seed 000's `verifyUser({ username, password })`, made pluggable: the built-in store
 * ({@link StoreUserVerifier}) or your backend (`remote-user-verifier.ts`, VERIFY_USER_URL).
 * Answers `undefined` for "no" — an unknown user and a wrong password alike — and rejects with
 * AUTH_UNAVAILABLE when it cannot tell.
 */
export interface UserVerifier {
  readonly name: string;
  /** True when Switchboard holds the passwords (`POST /password` and `users passwd` work). */
  readonly managesPasswords: boolean;
  verify(username: string, password: string): Promise<VerifiedUser | undefined>;
}

/**
 * Checks passwords against the argon2id hashes of the built-in user store. An unknown username still
 * costs one argon2 verification, so it answers in the same time as a wrong password.
 */
export class StoreUserVerifier implements UserVerifier {
  readonly name = 'store';
  readonly managesPasswords = true;

  constructor(private readonly store: AccountStore) {}

  async verify(username: string, password: string): Promise<VerifiedUser | undefined> {
    const user = password.length > MAX_PASSWORD_LENGTH ? undefined : await this.store.findUser(username);
    if (user === undefined) {
      await verifyAgainstDummy(password.slice(0, MAX_PASSWORD_LENGTH));
      return undefined;
    }
    if (!(await verifyPassword(user.passwordHash, password))) return undefined;
    return { id: user.id, role: user.role, permissions: user.permissions, disabled: user.disabled };
  }
}
