import { UserExistsError, type AccountStore, type UserRecord } from '../stores/account-store.js';
import { createAccountStore, type AccountStoreOptions } from '../stores/create-account-store.js';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, passwordRuleBroken } from '../auth-service/passwords.js';
import { envSchema } from '../config/env-schema.js';
import { emptyToUndefined } from '../config/load-config.js';
import { ADMIN_USER_ID } from '../auth-service/auth-service.js';
import { oneLineMessage } from '../runtime/error-message.js';
import { CommandFailed, environmentWithDotEnv, Interrupted, listOption, parseCommandLine, runCommand, UsageError } from './command.js';

/**
 * `switchboard users <command>` (or `npm run users -- <command>`): manages the built-in auth service's users in the store the gateway uses
 * (SQLite under DATA_DIR, or PostgreSQL at DATABASE_URL), from the environment or `.env`. A running gateway
 * sees the change on its next query and disconnects the sockets of disabled users through the account
 * events. Exit codes: 0 done, 1 failed (no such user, taken username, store unreachable), 2 bad usage.
 * Passwords and hashes are never printed.
 */
const USAGE = `Usage: switchboard users <command> [options]    (or: npm run users -- <command> [options])

Commands:
  add <username> [--password <pw>] [--role <role>] [--permission <p>]...
                       Add a user. Role "user" by default; --permission repeats and takes comma lists.
  passwd <username> [--password <pw>]
                       Set a new password and end all of the user's sessions.
  disable <username>   Disable a user and end all of their sessions.
  enable <username>    Enable a disabled user again (ended sessions stay ended).
  list                 List users: username, role, permissions, status, created.

Without --password the password is read from standard input: asked for without echo on a terminal,
else the first line of piped input (a password on the command line may stay in your shell history).
Passwords are ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, not only whitespace.

Store: PostgreSQL at DATABASE_URL when set, else SQLite under DATA_DIR (default ./data); both are read
from the environment or .env.
`;

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
/** Roles and permissions: printable ASCII without spaces or commas (commas separate permissions). */
const ROLE = /^[\x21-\x2b\x2d-\x7e]{1,64}$/;
const PERMISSION = /^[\x21-\x2b\x2d-\x7e]{1,128}$/;

type CommandName = 'add' | 'passwd' | 'disable' | 'enable' | 'list';
type OptionName = 'password' | 'role' | 'permission';

/** What each command takes: its positional arguments (all required) and its options. */
const COMMANDS: Record<CommandName, { readonly args: readonly string[]; readonly options: readonly OptionName[] }> = {
  add: { args: ['username'], options: ['password', 'role', 'permission'] },
  passwd: { args: ['username'], options: ['password'] },
  disable: { args: ['username'], options: [] },
  enable: { args: ['username'], options: [] },
  list: { args: [], options: [] },
};

interface Invocation {
  readonly command: CommandName;
  readonly username: string;
  readonly password: string | undefined;
  readonly role: string;
  readonly permissions: string[];
}

/** Parses and checks the command line; everything wrong with it is a {@link UsageError}. `undefined` for --help. */
function parseInvocation(argv: string[]): Invocation | undefined {
  const parsed = parseCommandLine({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      password: { type: 'string' },
      role: { type: 'string' },
      permission: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help === true) return undefined;
  const [name, ...args] = positionals;
  if (name === undefined) throw new UsageError('missing command (see --help)');
  if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(`unknown command "${name}" (see --help)`);
  const command = name as CommandName;
  const spec = COMMANDS[command];
  if (args.length < spec.args.length) throw new UsageError(`${command}: missing <${spec.args[args.length]}>`);
  if (args.length > spec.args.length) throw new UsageError(`${command}: unexpected argument "${args[spec.args.length]}"`);
  for (const option of ['password', 'role', 'permission'] as const) {
    if (values[option] !== undefined && !spec.options.includes(option)) throw new UsageError(`${command} takes no --${option}`);
  }

  const username = args[0] ?? '';
  const role = values.role ?? 'user';
  const permissions = listOption(values.permission);
  if (command === 'add') {
    if (!USERNAME.test(username)) throw new UsageError(`invalid username ${JSON.stringify(username)}: use 1 to 64 letters, digits, ".", "_", "@" or "-"`);
    if (username.toLowerCase() === ADMIN_USER_ID) throw new UsageError(`the username "${ADMIN_USER_ID}" is reserved for the access-key login`);
    if (!ROLE.test(role)) throw new UsageError(`invalid role ${JSON.stringify(role)}: use 1 to 64 printable characters, no spaces or commas`);
    const bad = permissions.find((p) => !PERMISSION.test(p));
    if (bad !== undefined) throw new UsageError(`invalid permission ${JSON.stringify(bad)}: use 1 to 128 printable characters, no spaces`);
  }
  if (values.password !== undefined) checkPassword(values.password);
  return { command, username, password: values.password, role, permissions };
}

function checkPassword(password: string): void {
  const broken = passwordRuleBroken(password);
  if (broken !== undefined) throw new UsageError(`the password ${broken}`);
}

/** DATA_DIR and DATABASE_URL, from the environment after `.env` (as the gateway reads them); empty means unset. */
function storeOptions(): AccountStoreOptions {
  environmentWithDotEnv();
  const parsed = envSchema.pick({ DATA_DIR: true, DATABASE_URL: true }).safeParse(emptyToUndefined(process.env));
  if (!parsed.success) {
    throw new CommandFailed(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return { dataDir: parsed.data.DATA_DIR, databaseUrl: parsed.data.DATABASE_URL };
}

/** The password from --password, else from standard input (asked twice, without echo, on a terminal). */
async function passwordOf(invocation: Invocation): Promise<string> {
  if (invocation.password !== undefined) return invocation.password;
  let password: string | undefined;
  if (process.stdin.isTTY) {
    password = await promptHidden('Password: ');
    checkPassword(password);
    if ((await promptHidden('Repeat password: ')) !== password) throw new UsageError('the passwords do not match');
  } else {
    password = await readFirstLine(process.stdin);
    if (password === undefined || password === '') throw new UsageError('no password given: use --password or pipe it on standard input');
  }
  checkPassword(password);
  return password;
}

/** Reads one line from the terminal in raw mode, echoing nothing; the prompt goes to stderr. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error === undefined) resolve(text);
      else reject(error);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || (char === '\u0004' && text !== '')) return finish();
        if (char === '\u0003' || char === '\u0004') return finish(new Interrupted('interrupted'));
        if (char === '\u007f' || char === '\b') text = [...text].slice(0, -1).join('');
        else if (char >= ' ') text += char;
      }
    };
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The first line of piped input, without its line ending; `undefined` when the input is empty. */
function readFirstLine(stream: NodeJS.ReadStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (line: string | undefined) => {
      stream.off('data', onData).off('end', onEnd).off('error', reject);
      stream.destroy();
      resolve(line?.replace(/\r$/, ''));
    };
    const onData = (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) finish(text.slice(0, end));
      // No need to read megabytes to know the password is too long.
      else if (text.length > MAX_PASSWORD_LENGTH + 1) finish(text);
    };
    const onEnd = () => finish(text === '' ? undefined : text);
    stream.setEncoding('utf8');
    stream.on('data', onData).on('end', onEnd).on('error', reject);
  });
}

function sessionsRevoked(count: number): string {
  return `${count} session${count === 1 ? '' : 's'} ended`;
}

/** Users as a plain, space-aligned table (never a hash). */
function userTable(users: readonly UserRecord[]): string {
  if (users.length === 0) return 'no users\n';
  const rows = [
    ['USERNAME', 'ROLE', 'PERMISSIONS', 'STATUS', 'CREATED'],
    ...users.map((user) => [
      user.username,
      user.role,
      user.permissions.length === 0 ? '-' : user.permissions.join(','),
      user.disabled ? 'disabled' : 'active',
      new Date(user.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Runs the command against the store; returns the line (or table) to print. */
async function run(store: AccountStore, invocation: Invocation): Promise<string> {
  const { command, username } = invocation;
  switch (command) {
    case 'add': {
      if ((await store.findUser(username)) !== undefined) throw new CommandFailed(`a user named "${username}" already exists`);
      const passwordHash = await hashPassword(await passwordOf(invocation));
      try {
        await store.addUser({ username, passwordHash, role: invocation.role, permissions: invocation.permissions }, Date.now());
      } catch (error) {
        if (error instanceof UserExistsError) throw new CommandFailed(`a user named "${username}" already exists`);
        throw error;
      }
      const permissions = invocation.permissions.length === 0 ? 'none' : invocation.permissions.join(',');
      return `added user ${username} (role ${invocation.role}, permissions ${permissions})\n`;
    }
    case 'passwd': {
      if ((await store.findUser(username)) === undefined) throw new CommandFailed(`no user named "${username}"`);
      const passwordHash = await hashPassword(await passwordOf(invocation));
      const revoked = await store.changePassword(username, passwordHash, undefined, Date.now());
      if (revoked === undefined) throw new CommandFailed(`no user named "${username}"`);
      return `changed the password of ${username} (${sessionsRevoked(revoked.length)})\n`;
    }
    case 'disable': {
      const revoked = await store.disableUser(username, Date.now());
      if (revoked === undefined) throw new CommandFailed(`no user named "${username}"`);
      return `disabled user ${username} (${sessionsRevoked(revoked.length)})\n`;
    }
    case 'enable': {
      if (!(await store.enableUser(username))) throw new CommandFailed(`no user named "${username}"`);
      return `enabled user ${username}\n`;
    }
    case 'list':
      return userTable(await store.listUsers());
  }
}

/** `switchboard users …`: the exit code. */
export function usersCommand(argv: string[]): Promise<number> {
  return runCommand('users', async () => {
    const invocation = parseInvocation(argv);
    if (invocation === undefined) {
      process.stdout.write(USAGE);
      return;
    }
    const options = storeOptions();
    const store = await createAccountStore(options).catch((error: unknown) => {
      throw new CommandFailed(`cannot open the account store (${options.databaseUrl === undefined ? 'SQLite' : 'PostgreSQL'}): ${oneLineMessage(error)}`);
    });
    try {
      process.stdout.write(await run(store, invocation));
    } finally {
      await store.close();
    }
  });
}
