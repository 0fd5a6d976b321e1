import { InProcessCluster } from '../../src/engine/in-process-cluster.js';
import { startGateway, type TestGateway } from './gateway.js';
import { onCleanup } from './cleanup.js';
import { freshDir } from './temp.js';

/**
 * Multi-node test support: several real gateways in this process as one in-process cluster (no Redis).
 * What the tests check through the nodes is in `cluster-checks.ts`, shared with the Redis cluster tests.
 */
export interface TestCluster {
  readonly nodes: readonly TestGateway[];
  readonly urls: readonly string[];
}

/**
 * Starts `n` gateways (test defaults plus `env`, each on its own port) sharing one `InProcessCluster`
 * and one DATA_DIR, as the nodes of a deployment share their stores. The gateways are closed after the
 * test, then the cluster.
 */
export async function startCluster(n: number, env: Record<string, string> = {}): Promise<TestCluster> {
  let cluster: InProcessCluster | undefined;
  onCleanup(() => cluster?.close());
  const nodeEnv = { DATA_DIR: freshDir('data'), ...env };
  const nodes = await Promise.all(Array.from({ length: n }, () =>
    startGateway(nodeEnv, { engine: (config) => (cluster ??= new InProcessCluster(config)).addNode() })));
  return { nodes, urls: nodes.map((node) => node.url) };
}
