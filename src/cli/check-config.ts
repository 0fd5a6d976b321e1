import type { Config } from '../config/config.js';
import { describeVariables } from '../config/env-schema.js';
import { describeRedisTarget } from '../config/redis-target.js';
import { ConfigError, emptyToUndefined, loadConfig } from '../config/load-config.js';
import { REDACTED, redactUrlPasswords } from '../runtime/logger.js';
import { CommandFailed, environmentWithDotEnv, parseCommandLine, runCommand } from './command.js';

const USAGE = `Usage: switchboard check-config [--all]

Reads the configuration as the gateway would here (the environment, then .env of this folder, then the
defaults), checks it, and prints every variable with its effective value and where it comes from, then
what the gateway would do with it. Secrets are never printed, only their length. Exit code 0 when the
gateway would start with it, 1 (with every problem listed) when it would refuse.

Options:
  --all    also list the variables that are unset and have no default
`;

/** A variable's value for display on one row: secrets masked, URL passwords replaced, line breaks (a PEM key) as `\n`. */
function shown(value: string, secret: boolean): string {
  return secret ? `${REDACTED} (${value.length} characters)` : redactUrlPasswords(value).replace(/\r?\n/g, '\\n');
}

/** What the gateway would do with `config`, in a few lines; no secret in them. */
function summary(config: Config, env: Record<string, string | undefined>): string[] {
  const jwt = config.jwt;
  const clientAuth = config.authStrategy === 'none'
    ? 'none: everyone connects as an anonymous user'
    : config.authStrategy === 'introspection'
      ? `introspection at ${redactUrlPasswords(config.introspection?.url ?? '')}`
      : jwt.publicKeyPem !== undefined ? `JWT (${jwt.algorithms.join(',')}) verified with JWT_PUBLIC_KEY`
        : jwt.jwksUrl !== undefined ? `JWT (${jwt.algorithms.join(',')}) verified with the keys at ${redactUrlPasswords(jwt.jwksUrl)}`
          : config.generated.jwtSecret !== undefined ? 'JWT (HS256), secret generated for each run (set JWT_SECRET to keep it)'
            : `JWT (${jwt.algorithms.join(',')}) verified with ${env.JWT_SECRET !== undefined || env.IDAE_SOCKET_JWT_SECRET !== undefined ? 'JWT_SECRET' : 'ACCESS_TOKEN_SECRET'}`;
  const service = config.authService;
  const store = config.databaseUrl === undefined ? `SQLite under ${config.dataDir}` : `PostgreSQL at ${redactUrlPasswords(config.databaseUrl)}`;
  const surfaces = [
    '/v1', config.internalApi ? '/internal' : '', config.channelEventsApi ? '/api/socket' : '',
    config.transactionsApi ? 'transactions (/client, /event, …)' : '', config.eventGatewayApi ? `${config.gatewayBasePath}/{event}` : '',
  ].filter(Boolean);
  return [
    `listens on:    ${config.host}:${config.port} (NODE_ENV=${config.nodeEnv})`,
    `engine:        ${config.redis === undefined ? 'in memory (one node)' : `Redis at ${describeRedisTarget(config.redis.target, redactUrlPasswords)} (prefix ${config.redis.prefix}, ${config.redis.adapter} adapter)`}`,
    `client tokens: ${clientAuth}`,
    `API keys:      ${config.generated.apiKey !== undefined ? 'one generated for each run (set API_KEYS to keep it)' : `${config.apiKeys.length} configured`}`,
    `auth service:  ${service === undefined ? 'off' : `on, ${service.port === 'same' ? 'under /auth on PORT' : `port ${service.port}`}, users in ${service.verifyUser === undefined ? store : `your backend (${redactUrlPasswords(service.verifyUser.url)})`}${env.ACCESS_TOKEN_SECRET === undefined ? ', token secrets generated for each run' : ''}`}`,
    `webhooks:      ${config.webhooks.url === undefined ? 'off' : `to ${redactUrlPasswords(config.webhooks.url)}`}`,
    `HTTP API:      ${surfaces.join(', ')}`,
  ];
}

/** `switchboard check-config …`: the exit code. */
export function checkConfigCommand(argv: string[]): Promise<number> {
  return runCommand('check-config', async () => {
    const { values } = parseCommandLine({ args: argv, strict: true, options: { all: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return;
    }
    const fromDotEnv = environmentWithDotEnv();
    const env = emptyToUndefined(process.env);
    let config: Config | undefined;
    let problems: readonly string[] = [];
    try {
      config = loadConfig(process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }

    const generated: Record<string, string | undefined> = {
      API_KEYS: config?.generated.apiKey, JWT_SECRET: config?.generated.jwtSecret, ACCESS_KEY: config?.generated.accessKey,
    };
    const rows = describeVariables().flatMap(({ name, defaultValue, default: unset, secret }) => {
      const value = env[name];
      if (value !== undefined) return [[name, shown(value, secret), fromDotEnv.has(name) ? '.env' : 'environment']];
      if (generated[name] !== undefined) return [[name, '(generated at each start)', 'development']];
      if (defaultValue !== undefined) return [[name, defaultValue, 'default']];
      return values.all === true ? [[name, '-', `unset: ${unset.replace(/`/g, '')}`]] : [];
    });
    const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
    const table = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());

    const out = ['Effective configuration (environment, then .env, then defaults):', '', ...table, ''];
    if (config !== undefined) out.push('The gateway would start with it:', ...summary(config, env).map((line) => `  ${line}`), '');
    process.stdout.write(`${out.join('\n')}\n`);
    if (problems.length > 0) throw new CommandFailed(`the gateway would refuse to start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  });
}
