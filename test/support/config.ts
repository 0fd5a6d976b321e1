import { ConfigError, loadConfig } from '../../src/config/load-config.js';

/** The problems `loadConfig` reports for `env` (an empty list when it is valid). */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}
