import { configSchema, type Config, type DeepReadonly } from './config.js';

/** Thrown when the environment does not describe a runnable gateway; lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads the environment once into a frozen {@link Config}. Every problem is listed before failing (each
 * variable's own, then those across variables), so an operator fixes them in one go. In development,
 * missing secrets are generated for this run; in production they are required.
 */
export function loadConfig(source: NodeJS.ProcessEnv): Config {
  const parsed = configSchema.safeParse(emptyToUndefined(source));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`)));
  }
  return deepFreeze(parsed.data);
}

/** Treats `VAR=` (empty) as unset, as shells and .env files commonly produce it. */
export function emptyToUndefined(source: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(source)) out[key] = value === '' ? undefined : value;
  return out;
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}
