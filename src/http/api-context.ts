import type { Config } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import type { Publisher } from '../realtime/publisher.js';
import type { SessionControl } from '../realtime/session-control.js';
import type { ApiKeyVerifier } from '../auth/api-key-verifier.js';
import type { Lifecycle } from '../runtime/lifecycle.js';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import type { ClientRegistry } from '../stores/client-registry.js';
import type { GatewayServer } from '../protocol/socket-types.js';

/** What the HTTP surfaces need from the rest of the gateway; built by the composition root. */
export interface ApiContext {
  readonly config: Config;
  readonly engine: Engine;
  readonly publisher: Publisher;
  readonly sessionControl: SessionControl;
  readonly apiKeys: ApiKeyVerifier;
  readonly lifecycle: Lifecycle;
  readonly nodeId: string;
  readonly authStrategyName: string;
  /** Seed 000: the client registry, the server (for client namespaces) and the strategy admin JWTs are checked with. */
  readonly tenants: {
    readonly registry: ClientRegistry;
    readonly io: GatewayServer;
    readonly strategy: AuthStrategy;
  };
  /** The auth service's access tokens (checked against its store), accepted on `/v1` with the route's permission; `undefined` when it is off. */
  readonly userTokens: AuthStrategy | undefined;
}

/** The options every HTTP surface and route module is registered with. */
export interface SurfaceOptions {
  readonly context: ApiContext;
}
