import type { AccountStore } from './account-store.js';
import { PostgresAccountStore } from './postgres-account-store.js';
import { SqliteAccountStore } from './sqlite-account-store.js';

export interface AccountStoreOptions {
  /** DATA_DIR: where the SQLite store keeps `switchboard.sqlite`. */
  readonly dataDir: string;
  /** DATABASE_URL: when set, PostgreSQL (shared by several nodes) instead of SQLite. */
  readonly databaseUrl?: string | undefined;
}

/**
 * Opens the account store the configuration names: PostgreSQL at `databaseUrl` when it is set (tables
 * created when missing), else SQLite under `dataDir`. Shared by the gateway and `npm run users`.
 */
export async function createAccountStore({ dataDir, databaseUrl }: AccountStoreOptions): Promise<AccountStore> {
  if (databaseUrl !== undefined && databaseUrl !== '') return PostgresAccountStore.open(databaseUrl);
  return new SqliteAccountStore(dataDir);
}
