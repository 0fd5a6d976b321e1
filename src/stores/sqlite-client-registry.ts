import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ClientRecord, ClientRegistry } from './client-registry.js';

/** One row of `clients`; `subscriptions` is a JSON array of event names, unique and sorted. */
interface ClientRow {
  readonly name: string | null;
  readonly subscriptions: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  client_id TEXT PRIMARY KEY,
  name TEXT,
  subscriptions TEXT NOT NULL,
  updated_at INTEGER
)`;

/**
 * The client registry of one node, in SQLite at `{dataDir}/switchboard.sqlite` (WAL mode): durable, so
 * it survives restarts, but not shared — several nodes need the Redis engine's registry. Every call is
 * synchronous underneath; subscribe and unsubscribe read, change and write the row inside one IMMEDIATE
 * transaction, so even two processes on the same file cannot lose each other's change.
 */
export class SqliteClientRegistry implements ClientRegistry {
  private readonly db: Database.Database;
  private readonly selectRow: Database.Statement<[string], ClientRow>;
  private readonly upsertRow: Database.Statement<[string, string | null, string, number]>;
  private readonly deleteRow: Database.Statement<[string]>;
  private readonly updateSubscriptions: Database.Statement<[string, number, string]>;
  private readonly changeSubscription: (clientId: string, eventName: string, add: boolean) => ClientRecord | undefined;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'switchboard.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
    this.selectRow = this.db.prepare('SELECT name, subscriptions FROM clients WHERE client_id = ?');
    this.upsertRow = this.db.prepare(
      `INSERT INTO clients (client_id, name, subscriptions, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, subscriptions = excluded.subscriptions, updated_at = excluded.updated_at`,
    );
    this.deleteRow = this.db.prepare('DELETE FROM clients WHERE client_id = ?');
    this.updateSubscriptions = this.db.prepare('UPDATE clients SET subscriptions = ?, updated_at = ? WHERE client_id = ?');
    const change = this.db.transaction((clientId: string, eventName: string, add: boolean): ClientRecord | undefined => {
      const row = this.selectRow.get(clientId);
      if (row === undefined) return undefined;
      const current = JSON.parse(row.subscriptions) as string[];
      const next = add ? uniqueSorted([...current, eventName]) : current.filter((name) => name !== eventName);
      this.updateSubscriptions.run(JSON.stringify(next), Date.now(), clientId);
      return { clientId, name: row.name ?? undefined, subscriptions: next };
    });
    // IMMEDIATE takes the write lock before the read, so no other connection writes in between.
    this.changeSubscription = (clientId, eventName, add) => change.immediate(clientId, eventName, add);
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const row = this.selectRow.get(clientId);
    if (row === undefined) return undefined;
    return { clientId, name: row.name ?? undefined, subscriptions: JSON.parse(row.subscriptions) as string[] };
  }

  async put(record: ClientRecord): Promise<void> {
    this.upsertRow.run(record.clientId, record.name ?? null, JSON.stringify(uniqueSorted(record.subscriptions)), Date.now());
  }

  async remove(clientId: string): Promise<boolean> {
    return this.deleteRow.run(clientId).changes > 0;
  }

  async subscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.changeSubscription(clientId, eventName, true);
  }

  async unsubscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.changeSubscription(clientId, eventName, false);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** The names once each, in code-unit order (the order both registries answer in). */
function uniqueSorted(names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}
