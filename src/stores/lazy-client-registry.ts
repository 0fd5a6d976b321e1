import type { ClientRecord, ClientRegistry } from './client-registry.js';

/**
 * Opens the real registry on first use, so a gateway that never registers a client creates no files
 * (the SQLite database under DATA_DIR appears with the first transaction-route call).
 */
export class LazyClientRegistry implements ClientRegistry {
  private opened: ClientRegistry | undefined;

  constructor(private readonly open: () => ClientRegistry) {}

  get(clientId: string): Promise<ClientRecord | undefined> {
    return this.registry().get(clientId);
  }

  put(record: ClientRecord): Promise<void> {
    return this.registry().put(record);
  }

  remove(clientId: string): Promise<boolean> {
    return this.registry().remove(clientId);
  }

  subscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.registry().subscribe(clientId, eventName);
  }

  unsubscribe(clientId: string, eventName: string): Promise<ClientRecord | undefined> {
    return this.registry().unsubscribe(clientId, eventName);
  }

  async close(): Promise<void> {
    await this.opened?.close();
  }

  private registry(): ClientRegistry {
    this.opened ??= this.open();
    return this.opened;
  }
}
