/** One registered client of the transaction events (a tenant such as a merchant) and the events it takes. */
export interface ClientRecord {
  readonly clientId: string;
  /** The registration's `payload.name`, when given. */
  readonly name: string | undefined;
  /** Transaction event names the client subscribes to. */
  readonly subscriptions: readonly string[];
}

/**
 * The durable client registry shared by every node: SQLite under DATA_DIR with the memory engine, Redis
 * with the Redis engine. It survives restarts; every method is a single atomic step.
 */
export interface ClientRegistry {
  get(clientId: string): Promise<ClientRecord | undefined>;
  /** Adds the client, or replaces its name and subscriptions. */
  put(record: ClientRecord): Promise<void>;
  /** Removes the client; false when it was not registered. */
  remove(clientId: string): Promise<boolean>;
  /** Adds one subscription; `undefined` when the client is not registered. */
  subscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined>;
  /** Removes one subscription; `undefined` when the client is not registered. */
  unsubscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined>;
  close(): Promise<void>;
}
