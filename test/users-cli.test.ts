import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountStore } from '../src/stores/account-store.js';
import { verifyPassword } from '../src/auth-service/passwords.js';
import { PostgresAccountStore } from '../src/stores/postgres-account-store.js';
import { SqliteAccountStore } from '../src/stores/sqlite-account-store.js';
import { freshSchemaUrl } from './support/postgres.js';
import { runCli, type CliResult } from './support/process.js';
import { freshDir } from './support/temp.js';

/**
 * `npm run users` for real: each case spawns `node bin/switchboard.js users …` from the repository root
 * (what `npm run users --` and `npx switchboard users` run) against a fresh DATA_DIR, then looks at the
 * store with the library itself.
 */
const ROOT = resolve(import.meta.dirname, '..');
const PASSWORD = 'correct horse battery';

const stores: AccountStore[] = [];

afterAll(async () => {
  for (const store of stores) await store.close();
});


/** A store on the CLI's SQLite file, as a running gateway would hold it (closed after the file). */
function openSqlite(dir: string): SqliteAccountStore {
  const store = new SqliteAccountStore(dir);
  stores.push(store);
  return store;
}

/** Runs `switchboard users …` with DATA_DIR=`dataDir` (DATABASE_URL empty unless given) and `input` piped on stdin. */
function users(dataDir: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCli(['users', ...args], { cwd: ROOT, input: options.input, env: { DATA_DIR: dataDir, DATABASE_URL: '', ...options.env } });
}

/** The `list` row of `username`, split into its columns. */
function rowOf(listing: string, username: string): string[] | undefined {
  return listing
    .split('\n')
    .map((line) => line.split(/\s+/))
    .find((cells) => cells[0] === username);
}

describe('npm run users', () => {
  it('adds a user with --password and lists it without the password or its hash', async () => {
    const dir = freshDir('users-cli');
    const added = await users(dir, ['add', 'alice', '--password', PASSWORD, '--role', 'editor', '--permission', 'orders:read', '--permission', 'chat:write,chat:read']);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout.trim().split('\n')).toHaveLength(1);
    expect(added.stdout).toContain('alice');

    const listed = await users(dir, ['list']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout.split('\n')[0]).toMatch(/^USERNAME\s+ROLE\s+PERMISSIONS\s+STATUS\s+CREATED$/);
    expect(rowOf(listed.stdout, 'alice')).toEqual(['alice', 'editor', 'orders:read,chat:write,chat:read', 'active', expect.stringMatching(/^\d{4}-\d\d-\d\dT/)]);
    for (const output of [added.stdout, added.stderr, listed.stdout, listed.stderr]) {
      expect(output).not.toContain(PASSWORD);
      expect(output).not.toContain('$argon2');
    }
  });

  it('reads the password from piped standard input and stores a hash that verifies', async () => {
    const dir = freshDir('users-cli');
    const added = await users(dir, ['add', 'bob'], { input: 'piped secret 123\nnot the password\n' });
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).not.toContain('piped secret');

    const user = await openSqlite(dir).findUser('bob');
    expect(user).toMatchObject({ role: 'user', permissions: [], disabled: false });
    expect(user?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(user!.passwordHash, 'piped secret 123')).toBe(true);
  });

  it('refuses a taken username with exit code 1', async () => {
    const dir = freshDir('users-cli');
    expect((await users(dir, ['add', 'carol', '--password', PASSWORD])).code).toBe(0);
    const again = await users(dir, ['add', 'carol', '--password', 'another password']);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toMatch(/^switchboard users: .*"carol" already exists\n$/);
  });

  it('refuses bad usage with exit code 2: short password, the admin username, no password, unknown command', async () => {
    const dir = freshDir('users-cli');
    const cases: [string[], RegExp][] = [
      [['add', 'dave', '--password', 'short'], /at least 8 characters/],
      [['add', 'dave', '--password', ' '.repeat(8)], /something other than whitespace/],
      [['add', 'admin', '--password', PASSWORD], /"admin" is reserved/],
      [['add', 'bad name', '--password', PASSWORD], /invalid username/],
      [['add', 'erin'], /no password/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['list', '--role', 'admin'], /list takes no --role/],
    ];
    for (const [args, message] of cases) {
      const result = await users(dir, args);
      expect(result, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(/^switchboard users: [^\n]+\n$/);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(PASSWORD);
    }
    expect((await users(dir, ['list'])).stdout).toBe('no users\n');
  });

  it('disables a user: list shows it and their sessions are revoked', async () => {
    const dir = freshDir('users-cli');
    expect((await users(dir, ['add', 'frank', '--password', PASSWORD])).code).toBe(0);
    const gateway = openSqlite(dir);
    const now = Date.now();
    await gateway.createSession({
      id: 'session-frank',
      userId: 'frank',
      role: 'user',
      permissions: [],
      deviceId: '',
      createdAt: now,
      refreshGeneration: 0,
      refreshHash: 'hash',
      refreshIssuedAt: now,
      expiresAt: now + 86_400_000,
      accessJti: 'jti',
      accessIssuedAt: now,
      accessExpiresAt: now + 900_000,
    });
    expect(await gateway.sessionState('session-frank', Date.now())).toMatchObject({ active: true, userDisabled: false });

    const disabled = await users(dir, ['disable', 'frank']);
    expect(disabled).toMatchObject({ code: 0, stderr: '' });
    expect(disabled.stdout).toMatch(/disabled user frank \(1 session ended\)/);
    expect(rowOf((await users(dir, ['list'])).stdout, 'frank')?.[3]).toBe('disabled');
    expect(await gateway.sessionState('session-frank', Date.now())).toStrictEqual({ userId: 'frank', active: false, userDisabled: true });
    expect(await gateway.eventsAfter(0, 10)).toMatchObject([{ kind: 'user-disabled', userId: 'frank', sessionIds: ['session-frank'] }]);

    expect(await users(dir, ['enable', 'frank'])).toMatchObject({ code: 0, stdout: 'enabled user frank\n' });
    expect(rowOf((await users(dir, ['list'])).stdout, 'frank')?.[3]).toBe('active');
    expect(await users(dir, ['disable', 'nobody'])).toMatchObject({ code: 1, stderr: 'switchboard users: no user named "nobody"\n' });
  });

  it('changes a password from standard input', async () => {
    const dir = freshDir('users-cli');
    expect((await users(dir, ['add', 'grace', '--password', PASSWORD])).code).toBe(0);
    const changed = await users(dir, ['passwd', 'grace'], { input: 'a brand new password\n' });
    expect(changed).toMatchObject({ code: 0, stderr: '' });
    const user = await openSqlite(dir).findUser('grace');
    expect(await verifyPassword(user!.passwordHash, 'a brand new password')).toBe(true);
    expect(await verifyPassword(user!.passwordHash, PASSWORD)).toBe(false);
  });

  it('prints its usage with --help', async () => {
    const help = await users(freshDir('users-cli'), ['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: switchboard users <command> \[options\] +\(or: npm run users -- <command>/);
  });

  it('uses PostgreSQL when DATABASE_URL is set', async () => {
    const dir = freshDir('users-cli');
    const url = await freshSchemaUrl();
    const env = { DATABASE_URL: url };
    expect(await users(dir, ['add', 'heidi', '--password', PASSWORD, '--permission', 'a'], { env })).toMatchObject({ code: 0, stderr: '' });
    expect(rowOf((await users(dir, ['list'], { env })).stdout, 'heidi')?.slice(0, 4)).toEqual(['heidi', 'user', 'a', 'active']);

    const store = await PostgresAccountStore.open(url);
    stores.push(store);
    const user = await store.findUser('heidi');
    expect(await verifyPassword(user!.passwordHash, PASSWORD)).toBe(true);
    expect(existsSync(join(dir, 'switchboard.sqlite'))).toBe(false);
  });
});
