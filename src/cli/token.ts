import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../config/config.js';
import { duration } from '../config/env-schema.js';
import { ConfigError, emptyToUndefined, loadConfig } from '../config/load-config.js';
import { CommandFailed, environmentWithDotEnv, listOption, parseCommandLine, runCommand, UsageError } from './command.js';

const USAGE = `Usage: switchboard token --user <id> [options]

Mints a client token: a JWT signed with the configured secret (JWT_SECRET, or ACCESS_TOKEN_SECRET with the
auth service on), with the claim names the gateway reads, read from the environment or .env as the gateway
reads them. For development and tests; in production your identity provider issues the tokens. The token
goes to standard output and a summary to standard error, so this works:

  TOKEN=$(npx switchboard token --user alice --roles admin --rooms 'chat:*' --ttl 1h)

Options:
  --user <id>            the user id (claim JWT_USER_CLAIM, default user_id); required
  --session <id>         the session id (claim JWT_SESSION_CLAIM, default session_id); default: a new one
  --roles <a,b>          roles (claim roles)
  --rooms <a,b>          rooms the socket may join: names or * patterns (claim JWT_ROOMS_CLAIM, default rooms)
  --permissions <a,b>    permissions (claim JWT_PERMISSIONS_CLAIM, default permissions)
  --client-id <id>       seed 000: the client whose namespaces it may connect to (claim JWT_CLIENT_ID_CLAIM)
  --ttl <duration>       lifetime: seconds, or 15m, 1h, 30d (default 1h)
List options take comma lists and may be repeated. JWT_ISSUER and JWT_AUDIENCE, when set, become iss and aud.
`;

/** The secret client tokens are verified with, and the variable it comes from; refuses when there is none to sign with. */
function signingSecret(config: Config, env: Record<string, string | undefined>): { secret: string; variable: string } {
  if (config.authStrategy === 'none') throw new CommandFailed('AUTH_STRATEGY=none: clients connect without a token, there is nothing to mint');
  if (config.authStrategy === 'introspection') {
    throw new CommandFailed('AUTH_STRATEGY=introspection: tokens are checked by INTROSPECTION_URL, so only its issuer can make them');
  }
  if (config.jwt.publicKeyPem !== undefined || config.jwt.jwksUrl !== undefined) {
    throw new CommandFailed(`client tokens are verified with ${config.jwt.publicKeyPem === undefined ? 'JWT_JWKS_URL' : 'JWT_PUBLIC_KEY'}: only the holder of the private key (your identity provider) can sign them`);
  }
  const secret = config.jwt.secret;
  const variable = (['JWT_SECRET', 'IDAE_SOCKET_JWT_SECRET', 'ACCESS_TOKEN_SECRET'] as const).find((name) => secret !== undefined && env[name] === secret);
  if (secret === undefined || variable === undefined) {
    throw new CommandFailed(
      'no JWT secret is configured, so a token minted here would not verify: in development the gateway generates one for ' +
        'each run, which no other process knows. Set JWT_SECRET (e.g. `openssl rand -hex 32`) in .env or the environment, ' +
        'restart the gateway, and run this again',
    );
  }
  return { secret, variable };
}

/** `switchboard token …`: the exit code. */
export function tokenCommand(argv: string[]): Promise<number> {
  return runCommand('token', async () => {
    const { values } = parseCommandLine({
      args: argv,
      strict: true,
      options: {
        user: { type: 'string' },
        session: { type: 'string' },
        roles: { type: 'string', multiple: true },
        rooms: { type: 'string', multiple: true },
        permissions: { type: 'string', multiple: true },
        'client-id': { type: 'string' },
        ttl: { type: 'string', default: '1h' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return;
    }
    const user = values.user?.trim();
    if (user === undefined || user === '') throw new UsageError('--user <id> is required (see --help)');
    const ttl = duration.safeParse(values.ttl);
    if (!ttl.success) throw new UsageError(`--ttl ${values.ttl}: ${ttl.error.issues[0]?.message ?? 'invalid'}`);

    environmentWithDotEnv();
    const env = emptyToUndefined(process.env);
    let config: Config;
    try {
      config = loadConfig(process.env);
    } catch (error) {
      if (error instanceof ConfigError) throw new CommandFailed(`${error.message.replace(/^Invalid configuration:\n/, 'the configuration is invalid (see `switchboard check-config`):\n')}`);
      throw error;
    }
    const { secret, variable } = signingSecret(config, env);
    const algorithm = config.jwt.algorithms.find((alg) => /^HS\d+$/.test(alg));
    if (algorithm === undefined) throw new CommandFailed(`JWT_ALGORITHMS (${config.jwt.algorithms.join(',')}) has no HMAC algorithm to sign with`);

    const claims = config.jwt;
    const session = values.session ?? `cli-${randomBytes(8).toString('hex')}`;
    const roles = listOption(values.roles);
    const rooms = listOption(values.rooms);
    const permissions = listOption(values.permissions);
    const jwt = new SignJWT({
      [claims.userClaim]: user,
      [claims.sessionClaim]: session,
      ...(roles.length === 0 ? {} : { roles }),
      ...(rooms.length === 0 ? {} : { [claims.roomsClaim]: rooms }),
      ...(permissions.length === 0 ? {} : { [claims.permissionsClaim]: permissions }),
      ...(values['client-id'] === undefined ? {} : { [claims.clientIdClaim]: values['client-id'] }),
    })
      .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(`${ttl.data}s`);
    if (claims.issuer !== undefined) jwt.setIssuer(claims.issuer);
    if (claims.audience !== undefined) jwt.setAudience(claims.audience);
    const token = await jwt.sign(new TextEncoder().encode(secret));

    const expires = new Date(Date.now() + ttl.data * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const scope = [roles.length > 0 ? `roles ${roles.join(',')}` : '', rooms.length > 0 ? `rooms ${rooms.join(',')}` : ''].filter(Boolean).join('; ');
    process.stdout.write(`${token}\n`);
    process.stderr.write(`token for user "${user}" (session ${session}${scope === '' ? '' : `; ${scope}`}), ${algorithm} with ${variable}, valid until ${expires}\n`);
  });
}
