import { hash, verify } from '@node-rs/argon2';

/**
 * Password hashing with argon2id (@node-rs/argon2, prebuilt): OWASP's baseline parameters (19 MiB, 2
 * passes, 1 lane). Hashes are PHC strings, so the parameters travel with each hash and can be raised later.
 */
// `Algorithm` is an ambient const enum (unusable under verbatimModuleSyntax): 2 is Algorithm.Argon2id.
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** The shortest password accepted by `users add` and `POST /password`. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longer passwords are refused before hashing, so nobody can make the server hash megabytes. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * The rule broken by `password` as a new password (`users add`, `POST /password`), phrased to follow
 * "the password …", or `undefined` when it may be set: 8 to 1024 characters, not all of them whitespace.
 */
export function passwordRuleBroken(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() === '') return 'must contain something other than whitespace';
  return undefined;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** True when `password` matches `phc`; false (never a throw) for a malformed hash. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;

/** Computes the dummy hash ahead of the first login, so that one is not slower than the rest. */
export async function prepareDummyHash(): Promise<void> {
  dummy ??= hashPassword('switchboard-dummy-password');
  await dummy;
}

/**
 * Spends the same time as checking a real user's password, for logins naming an unknown user, so the
 * answer's timing does not tell which usernames exist.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword('switchboard-dummy-password');
  await verifyPassword(await dummy, password);
  return false;
}
