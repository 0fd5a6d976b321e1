import { existsSync } from 'node:fs';

/**
 * Loads `.env` from the working directory into `process.env` (variables already set win), as the gateway
 * and the `users` CLI both do before reading their configuration. Answers false when a `.env` exists but
 * this Node.js cannot load it (`process.loadEnvFile` arrived in 20.12); the caller says so.
 */
export function loadDotEnv(): boolean {
  if (!existsSync('.env')) return true;
  if (typeof process.loadEnvFile !== 'function') return false;
  process.loadEnvFile('.env');
  return true;
}

/** The message for {@link loadDotEnv} answering false. */
export const DOTENV_UNSUPPORTED = '.env found but this Node.js cannot load it (needs 20.12+); set the variables in the environment';
