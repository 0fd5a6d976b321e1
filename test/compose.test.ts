import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
/** docker-compose v1 (Debian's `docker-compose` package); `.ci/run` installs it when it is missing. */
const COMPOSE = process.env.DOCKER_COMPOSE_BIN ?? 'docker-compose';
/** An empty env file, so a developer's `.env` next to docker-compose.yml cannot feed the interpolation. */
const TEMP_DIR = mkdtempSync(join(tmpdir(), 'switchboard-compose-'));
const EMPTY_ENV_FILE = join(TEMP_DIR, 'empty.env');
writeFileSync(EMPTY_ENV_FILE, '');
afterAll(() => rmSync(TEMP_DIR, { recursive: true, force: true }));

const SECRETS = { HTTP_API_KEY: 'dummy-api-key-0123456789', JWT_SECRET: 'dummy-jwt-secret-0123456789abcdef0123456789' };

/** Runs `docker-compose -f docker-compose.yml config` with PATH, HOME and `env` only; fails loudly if the binary is missing. */
function composeConfig(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(COMPOSE, ['--env-file', EMPTY_ENV_FILE, '-f', 'docker-compose.yml', 'config'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${COMPOSE} is not installed: install it (apt-get install docker-compose; .ci/run does) or set DOCKER_COMPOSE_BIN`);
  }
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The lines nested under a chain of keys in `docker-compose config`'s block-style YAML, dedented (a list may sit
 * at its key's own indentation, as `ports:` does). Empty when a key is absent. Enough for this output, not a YAML parser.
 */
function section(yaml: string, ...path: string[]): string[] {
  let lines = yaml.split('\n');
  let indent = 0;
  for (const key of path) {
    const pad = ' '.repeat(indent);
    const start = lines.indexOf(`${pad}${key}:`);
    if (start === -1) return [];
    const body: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (line.startsWith(`${pad} `) || line.startsWith(`${pad}- `)) body.push(line);
      else break;
    }
    lines = body;
    indent = Math.min(...body.map((line) => line.length - line.trimStart().length));
  }
  return lines.map((line) => line.slice(indent));
}

/** `KEY: value` lines of a mapping section, with YAML quotes removed. */
function mapping(lines: string[]): Record<string, string> {
  const entries = lines
    .map((line) => /^([^\s:#-][^:]*): ?(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => [match[1] ?? '', (match[2] ?? '').replace(/^'(.*)'$|^"(.*)"$/, '$1$2')]);
  return Object.fromEntries(entries);
}

/** Dockerfile instructions (continuations joined, comments dropped), each split into `[KEYWORD, arguments]`, per stage. */
function dockerfileStages(text: string): Array<Array<[string, string]>> {
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line): [string, string] => {
      const space = line.search(/\s/);
      return [line.slice(0, space).toUpperCase(), line.slice(space + 1).trim()];
    });
  const stages: Array<Array<[string, string]>> = [];
  for (const instruction of instructions) {
    if (instruction[0] === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

describe('docker-compose.yml', () => {
  it('resolves with the required secrets: both services, port 3000, the gateway pointed at the redis service', () => {
    const { status, stdout, stderr } = composeConfig(SECRETS);
    expect(status, stderr).toBe(0);

    const services = section(stdout, 'services').filter((line) => /^\S.*:$/.test(line));
    expect(services.sort()).toEqual(['redis:', 'switchboard:']);

    const environment = mapping(section(stdout, 'services', 'switchboard', 'environment'));
    expect(environment).toMatchObject({
      NODE_ENV: 'production',
      REDIS_HOST: 'redis',
      REDIS_PORT: '6379',
      REDIS_DATA_PREFIX: 'switchboard:',
      ...SECRETS,
    });
    expect(Object.keys(environment)).toEqual(expect.arrayContaining(['ALLOW_REQUEST_DOMAINS', 'REDIS_AUTH_PASSWORD']));

    const ports = section(stdout, 'services', 'switchboard', 'ports').join('\n');
    expect(ports).toMatch(/published: ["']?3000["']?/);
    expect(ports).toMatch(/target: 3000/);
    expect(mapping(section(stdout, 'services', 'switchboard', 'build')).context).toBe(ROOT);
    expect(section(stdout, 'services', 'switchboard', 'depends_on').join('\n')).toMatch(/redis/);

    expect(mapping(section(stdout, 'services', 'redis')).image).toMatch(/^redis:7/);
    // Redis is for the gateway only: never published on the host.
    expect(section(stdout, 'services', 'redis', 'ports')).toEqual([]);
  });

  it('passes the seed-001 variables through', () => {
    const { status, stdout, stderr } = composeConfig({
      ...SECRETS,
      ALLOW_REQUEST_DOMAINS: 'foo.com, bar.me',
      REDIS_DATA_PREFIX: 'chat:',
      REDIS_AUTH_PASSWORD: 'redis-password',
    });
    expect(status, stderr).toBe(0);
    expect(mapping(section(stdout, 'services', 'switchboard', 'environment'))).toMatchObject({
      ALLOW_REQUEST_DOMAINS: 'foo.com, bar.me',
      REDIS_DATA_PREFIX: 'chat:',
      REDIS_AUTH_PASSWORD: 'redis-password',
    });
  });

  it('refuses to resolve without HTTP_API_KEY or JWT_SECRET, naming the missing one', () => {
    const noKey = composeConfig({ JWT_SECRET: SECRETS.JWT_SECRET });
    expect(noKey.status).not.toBe(0);
    expect(noKey.stderr).toMatch(/set HTTP_API_KEY/);

    const noSecret = composeConfig({ HTTP_API_KEY: SECRETS.HTTP_API_KEY });
    expect(noSecret.status).not.toBe(0);
    expect(noSecret.stderr).toMatch(/set JWT_SECRET/);
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = stages.at(-1) ?? [];
  const args = (keyword: string, stage = runtime) => stage.filter(([name]) => name === keyword).map(([, rest]) => rest);
  const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };

  it('builds in one stage and runs from a production-only stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.flat().some(([name, rest]) => name === 'RUN' && /npm run build/.test(rest))).toBe(true);
    expect(packageJson.scripts.build).toBeDefined();
    // Production dependencies are installed (and compiled) in the build stage and copied over.
    expect(stages.flat().some(([name, rest]) => name === 'RUN' && /npm ci --omit=dev/.test(rest))).toBe(true);
    expect(args('COPY').join('\n')).toMatch(/--from=\S+ \S*node_modules/);
    expect(args('COPY').join('\n')).toMatch(/--from=\S+ \S*dist/);
    expect(args('ENV')).toContain('NODE_ENV=production');
    expect(args('EXPOSE')).toContain('3000');
  });

  it('runs node dist/main.js as the node user, with a /healthz health check', () => {
    const users = args('USER');
    expect(users.at(-1)).toBe('node');
    const cmd = args('CMD').at(-1) ?? '';
    expect(JSON.parse(cmd)).toEqual(['node', packageJson.main]);
    expect(packageJson.main).toBe('dist/main.js');
    expect(args('HEALTHCHECK').at(-1)).toMatch(/CMD .*node.*\/healthz/);
  });

  it('compiles production dependencies that need it in a stage with build tools', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true && entry.dev !== true)
      .map(([name]) => name);
    const buildRuns = stages.slice(0, -1).flat().filter(([name]) => name === 'RUN').map(([, rest]) => rest).join('\n');
    if (withScripts.length > 0) {
      expect(buildRuns, `${withScripts.join(', ')} compile(s) at install: the build stage needs a compiler`).toMatch(/g\+\+/);
      expect(buildRuns).not.toMatch(/npm ci --omit=dev[^\n]*--ignore-scripts/);
    }
  });

  it('copies only files that exist and that .dockerignore keeps in the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.env']));
    const sources = stages
      .flat()
      .filter(([name, rest]) => name === 'COPY' && !rest.startsWith('--from'))
      .flatMap(([, rest]) => rest.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source.replace(/^\.\//, '').replace(/\/$/, ''));
    }
  });
});
