import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeVariables } from '../src/config/env-schema.js';
import { loadConfig } from '../src/config/load-config.js';
import { problemsOf } from './support/config.js';
import { api, connectClient, nextEvent } from './support/gateway.js';
import { spawnGateway } from './support/process.js';
import { freshDir } from './support/temp.js';
import { waitFor } from './support/wait.js';

/** The document whose configuration table lists every variable. */
const CONFIGURATION_DOC = new URL('../docs/configuration.md', import.meta.url);

/**
 * The configuration table's rows as `[variable, default cell]`: the table under the header
 * `| variable | default | meaning |`, wherever it is in `file`.
 */
function readConfigurationTable(file: URL): [string, string][] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = lines.findIndex((line) => /^\|\s*variable\s*\|\s*default\s*\|\s*meaning\s*\|/.test(line));
  if (header < 0) throw new Error(`no configuration table in ${file.pathname}`);
  const rows: [string, string][] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|/.exec(line);
    if (cells === null) throw new Error(`unreadable configuration row: ${line}`);
    rows.push([cells[1]!, cells[2]!]);
  }
  return rows;
}

describe('configuration', () => {
  it('lists every problem in one pass: invalid values and the rules across variables', () => {
    const problems = problemsOf({ NODE_ENV: 'production', PORT: 'eighty' });
    expect(problems).toEqual([
      'PORT: must be a whole number',
      'API_KEYS (or INTERNAL_SECRET, AUTH_TOKEN, SECRET_KEY, HTTP_API_KEY) is required when NODE_ENV=production',
      'JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL or ACCESS_TOKEN_SECRET is required when NODE_ENV=production',
    ]);
    // A rule that reads a variable which failed on its own is skipped rather than guessed.
    expect(problemsOf({ NODE_ENV: 'prod' })).toEqual([expect.stringMatching(/^NODE_ENV: /)]);
    expect(problemsOf({ NODE_ENV: 'production', API_KEYS: 'k'.repeat(16), IDAE_SOCKET_AUTH_STRATEGY: 'magic' })).toEqual([expect.stringMatching(/^IDAE_SOCKET_AUTH_STRATEGY: /)]);
  });

  it('lists every invalid value, one problem each', () => {
    const problems = problemsOf({ PORT: 'eighty', SESSION_POLICY: 'sometimes', MAX_PAYLOAD_BYTES: '-1', LOG_LEVEL: 'loud' });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/SESSION_POLICY/);
    expect(problems.join('\n')).toMatch(/MAX_PAYLOAD_BYTES/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
  });

  it('never accepts alg none, and refuses keys that do not fit the algorithms', () => {
    expect(problemsOf({ JWT_SECRET: 's', JWT_ALGORITHMS: 'HS256,none' }).join()).toMatch(/"none" is never accepted/);
    expect(problemsOf({ JWT_SECRET: 's', JWT_ALGORITHMS: 'RS256' }).join()).toMatch(/HMAC secret/);
    expect(problemsOf({ JWT_SECRET: 's', JWT_PUBLIC_KEY: 'pem' }).join()).toMatch(/exclusive/);
  });

  it('refuses key, algorithm and origin settings that could never work', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(problemsOf({ JWT_PUBLIC_KEY: rsa, JWT_ALGORITHMS: 'ES256' }).join()).toMatch(/ES256 cannot be verified with this rsa key/);
    expect(problemsOf({ JWT_PUBLIC_KEY: rsa, JWT_ALGORITHMS: 'RS256' })).toEqual([]);
    expect(problemsOf({ JWT_PUBLIC_KEY: 'not a pem', JWT_ALGORITHMS: 'RS256' }).join()).toMatch(/JWT_PUBLIC_KEY: not a PEM/);
    expect(problemsOf({ JWT_SECRET: 's', JWT_ALGORITHMS: ',' }).join()).toMatch(/at least one algorithm/);
    expect(problemsOf({ CORS_ORIGIN: 'https://ok.example, app.example.com/path' }).join()).toMatch(/"app.example.com\/path" is not an origin/);
    expect(problemsOf({ INTERNAL_EVENTS: 'profile:update,connect' }).join()).toMatch(/INTERNAL_EVENTS: connect reserved/);
    expect(problemsOf({ CLIENT_EVENTS: '*' }).join()).toMatch(/CLIENT_EVENTS would let clients send gateway events \(auth:logout/);
    expect(problemsOf({ CLIENT_EVENTS: 'client-*,typing' })).toEqual([]);
  });

  it('refuses short secrets in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production', API_KEYS: 'short', JWT_SECRET: 'also-short' }).join('\n');
    expect(problems).toMatch(/API keys must be at least 16/);
    expect(problems).toMatch(/JWT_SECRET must be at least 32/);
  });

  it('reads API key aliases in the seeds\' order: API_KEYS, then INTERNAL_SECRET, AUTH_TOKEN, SECRET_KEY', () => {
    expect(loadConfig({ API_KEYS: 'k1, k2', INTERNAL_SECRET: 'i' }).apiKeys).toEqual(['k1', 'k2']);
    expect(loadConfig({ INTERNAL_SECRET: 'i', AUTH_TOKEN: 'a' }).apiKeys).toEqual(['i']);
    expect(loadConfig({ AUTH_TOKEN: 'a', SECRET_KEY: 's' }).apiKeys).toEqual(['a']);
    expect(loadConfig({ SECRET_KEY: 's' }).apiKeys).toEqual(['s']);
  });

  it('lets ALLOW_REQUEST_DOMAINS alone decide browser origins in production', () => {
    const secrets = { NODE_ENV: 'production', API_KEYS: 'k'.repeat(16), JWT_SECRET: 's'.repeat(32) };
    expect(loadConfig(secrets).corsOrigin).toEqual([]);
    expect(loadConfig({ ...secrets, ALLOW_REQUEST_DOMAINS: 'foo.com' })).toMatchObject({ corsOrigin: '*', allowRequestDomains: ['foo.com'] });
  });

  it('is frozen', () => {
    const config = loadConfig({ JWT_SECRET: 'x', API_KEYS: 'k' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.jwt)).toBe(true);
  });

  it('documents every variable once in the configuration table, with its default', () => {
    const rows = readConfigurationTable(CONFIGURATION_DOC);
    const variables = describeVariables();
    expect(new Set(rows.map(([name]) => name)).size).toBe(rows.length);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(variables.map((variable) => [variable.name, variable.default])));
    expect(variables.filter((variable) => variable.doc === '').map((variable) => variable.name)).toEqual([]);
  });
});

describe('start-up', () => {
  it('refuses to start in production without secrets and names the missing variables', async () => {
    const gateway = spawnGateway({ NODE_ENV: 'production' });
    expect(await gateway.exited()).toBe(1);
    expect(gateway.output()).toMatch(/API_KEYS/);
    expect(gateway.output()).toMatch(/JWT_SECRET/);
  });

  it('stops with one message per problem for invalid values', async () => {
    const gateway = spawnGateway({ SESSION_POLICY: 'sometimes', JWT_CLOCK_TOLERANCE: 'soon' });
    expect(await gateway.exited()).toBe(1);
    expect(gateway.output()).toMatch(/SESSION_POLICY/);
    expect(gateway.output()).toMatch(/JWT_CLOCK_TOLERANCE/);
  });

  it('in development with no secrets, prints a working API key, client token and publish command', async () => {
    const gateway = spawnGateway({ NODE_ENV: 'development' });
    const url = await gateway.listening();
    await waitFor(() => gateway.output().includes('curl'), { what: 'the start-up banner' });
    const output = gateway.output();
    const apiKey = /API key \(generated\):\s+(\S+)/.exec(output)?.[1];
    const token = /Client token for user "demo".*\n\s+(\S+)/.exec(output)?.[1];
    expect(apiKey).toBeDefined();
    expect(token).toBeDefined();
    expect(output).toContain(`curl -s -X POST ${url}/v1/publish`);
    const socket = await connectClient(url, token!);
    const received = nextEvent(socket, 'hello');
    const response = await api(url, '/v1/publish', { key: apiKey!, body: { event: 'hello', data: { text: 'it works' }, users: ['demo'] } });
    expect(response.status).toBe(200);
    expect((await received)[0]).toEqual({ text: 'it works' });
  });

  it('loads .env from the working directory', async () => {
    const dir = freshDir('env');
    writeFileSync(join(dir, '.env'), 'API_KEYS=from-dotenv-key-0123456789\nJWT_SECRET=from-dotenv-secret-0123456789abcdef\n');
    const gateway = spawnGateway({ NODE_ENV: 'production' }, dir);
    const url = await gateway.listening();
    expect((await api(url, '/v1/stats', { key: 'from-dotenv-key-0123456789' })).status).toBe(200);
    expect(gateway.output()).not.toContain('generated');
  });
});
