import { resolve } from 'node:path';

/** A parsed YAML document of plain data (what docker-compose.yml holds). */
export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

/** A `${VAR:?message}` (or `${VAR?message}`) whose variable is missing: Compose refuses the file. */
export class MissingVariableError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`required variable ${variable} is missing a value: ${detail}`);
  }
}

const NAME = '[_a-zA-Z][_a-zA-Z0-9]*';
const REFERENCE = new RegExp(`\\$(?:(\\$)|(${NAME})|\\{(${NAME})(?:(:?[-?+])([^}]*))?\\})`, 'g');

/**
 * Interpolates one string as Compose does: `$$` is a literal `$`; `$VAR` and `${VAR}` are the value or
 * empty; `${VAR:-default}` (unset or empty) and `${VAR-default}` (unset) fall back to the default;
 * `${VAR:?message}` (unset or empty) and `${VAR?message}` (unset) throw {@link MissingVariableError};
 * `${VAR:+other}` (set and non-empty) and `${VAR+other}` (set) give `other`, else empty. A `$` that starts
 * none of these (or a nested `${…}`) is refused.
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  if (text.replace(REFERENCE, '').includes('$')) throw new Error(`cannot interpolate ${JSON.stringify(text)}: unsupported "$" syntax`);
  return text.replace(REFERENCE, (_match, dollar: string | undefined, bare: string | undefined, braced: string | undefined, operator: string | undefined, word = '') => {
    if (dollar !== undefined) return '$';
    if (word.includes('$')) throw new Error(`cannot interpolate ${JSON.stringify(text)}: nested variables are not supported`);
    const name = (bare ?? braced)!;
    const value = env[name];
    const set = value !== undefined;
    const filled = set && value !== '';
    switch (operator) {
      case undefined:
        return value ?? '';
      case ':-':
        return filled ? value : word;
      case '-':
        return set ? value : word;
      case ':?':
        if (!filled) throw new MissingVariableError(name, word);
        return value;
      case '?':
        if (!set) throw new MissingVariableError(name, word);
        return value;
      case ':+':
        return filled ? word : '';
      default:
        return set ? word : '';
    }
  });
}

/** Every string value of a parsed Compose file interpolated (mapping keys are left as they are, as Compose does). */
export function interpolateAll(value: YamlValue, env: Readonly<Record<string, string>>): YamlValue {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env)]));
  }
  return value;
}

/** A published port: the container's `target`, the host's `published` port and the host address it binds (all when absent). */
export interface PortFacts {
  target: number;
  published: string | undefined;
  hostIp?: string;
}

/** A mount: `source` (an absolute path for a bind mount, else the volume's name), `target` in the container. */
export interface VolumeFacts {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What the tests check of one service, in one shape for the file's short syntax and `docker-compose config`'s long one. */
export interface ServiceFacts {
  image: string | undefined;
  /** The absolute build context. */
  buildContext: string | undefined;
  environment: Record<string, string>;
  ports: PortFacts[];
  dependsOn: string[];
  /** The profiles that start it; empty = always started. */
  profiles: string[];
  volumes: VolumeFacts[];
}

/** The services Compose starts with `profiles` enabled (`--profile …`): those without a profile, and those of an enabled one. */
export function startedServices(services: Record<string, ServiceFacts>, profiles: readonly string[] = []): Record<string, ServiceFacts> {
  return Object.fromEntries(Object.entries(services).filter(([, service]) => service.profiles.length === 0 || service.profiles.some((p) => profiles.includes(p))));
}

/**
 * The services of an interpolated Compose file (or of `docker-compose config` output) as {@link ServiceFacts}:
 * build contexts resolved against `projectDir`, environment lists and mappings as one mapping (a variable
 * named without a value takes it from `env`, as Compose does), port short syntax
 * (`[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`) and long syntax as `{ target, published }`, depends_on lists
 * and mappings as service names.
 */
export function serviceFacts(file: YamlValue, projectDir: string, env: Readonly<Record<string, string>> = {}): Record<string, ServiceFacts> {
  const services = record(record(file).services);
  return Object.fromEntries(
    Object.entries(services).map(([name, definition]) => {
      const service = record(definition);
      const build = service.build;
      const context = typeof build === 'string' ? build : build === undefined ? undefined : String(record(build).context ?? '.');
      return [
        name,
        {
          image: service.image === undefined ? undefined : String(service.image),
          buildContext: context === undefined ? undefined : resolve(projectDir, context),
          environment: environmentOf(service.environment, env),
          ports: list(service.ports).map(portOf),
          dependsOn: Array.isArray(service.depends_on) ? service.depends_on.map(String) : Object.keys(record(service.depends_on)),
          profiles: list(service.profiles).map(String),
          volumes: list(service.volumes).map((volume) => volumeOf(volume, projectDir)),
        },
      ];
    }),
  );
}

function environmentOf(value: YamlValue | undefined, env: Readonly<Record<string, string>>): Record<string, string> {
  const entries: [string, YamlValue][] = Array.isArray(value)
    ? value.map((item) => {
        const [key = '', ...rest] = String(item).split('=');
        return [key, rest.length === 0 ? null : rest.join('=')];
      })
    : Object.entries(record(value));
  const result: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (item !== null) result[key] = String(item);
    else if (env[key] !== undefined) result[key] = env[key];
  }
  return result;
}

function portOf(port: YamlValue): PortFacts {
  if (typeof port === 'number') return { target: port, published: undefined };
  if (typeof port === 'string') {
    const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.at(-1));
    if (!Number.isInteger(target) || parts.length > 3) throw new Error(`port ${JSON.stringify(port)}: only [HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL] is supported`);
    return { target, published: parts.length >= 2 ? parts.at(-2) : undefined, ...(parts.length === 3 ? { hostIp: parts[0]! } : {}) };
  }
  const { target, published, host_ip: hostIp } = record(port);
  return {
    target: Number(target),
    published: published === undefined || published === null ? undefined : String(published),
    ...(typeof hostIp === 'string' ? { hostIp } : {}),
  };
}

/** A mount in short (`SOURCE:TARGET[:MODE]`) or long syntax; relative bind sources resolved against `projectDir`. */
function volumeOf(volume: YamlValue, projectDir: string): VolumeFacts {
  const bindSource = (source: string) => (source.startsWith('.') || source.startsWith('/') ? resolve(projectDir, source) : source);
  if (typeof volume === 'string') {
    const [source = '', target = '', mode = ''] = volume.split(':');
    if (target === '') throw new Error(`volume ${JSON.stringify(volume)}: only SOURCE:TARGET[:MODE] is supported`);
    return { source: bindSource(source), target, readOnly: mode.split(',').includes('ro') };
  }
  const { source, target, read_only: readOnly } = record(volume);
  return { source: bindSource(String(source)), target: String(target), readOnly: readOnly === true };
}

function record(value: YamlValue | undefined): { [key: string]: YamlValue } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function list(value: YamlValue | undefined): YamlValue[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`);
  return value;
}
