import { browserHeaders, type HeaderProfile } from '../lib/browser-headers.js';
import type { ClientPool } from '../lib/client-pool.js';
import { sleep } from '../lib/clock.js';
import { memoryScenario, type BenchConfig } from '../lib/config.js';
import { openInspector, type InspectorSession } from '../lib/inspector.js';
import type { ClientIdentity } from '../lib/ipc.js';
import { rssKiB } from '../lib/proc-stats.js';
import type { Row } from '../lib/report.js';
import type { RunningServer } from '../lib/servers.js';

/** Node flag the memory phase starts servers with, so it can force a GC in them (see {@link measureMemory}). */
export const MEMORY_NODE_FLAGS = ['--inspect=127.0.0.1:0'];

/**
 * (c) Memory per connection, on a freshly started server: RSS and live JS heap after an idle settle, then
 * again after `memoryConnections` authenticated clients (one user each) connected and settled; the
 * growth is divided by the connections still open. The clients' upgrade requests carry the `headers`
 * profile: `bare` (what `ws` sends) or `browser` (a desktop Chrome's header set, lib/browser-headers.ts),
 * which is what a server that keeps each handshake request pays for with real browsers.
 *
 * Before each reading the server is made to run a full GC through its inspector: without it the "after"
 * reading mostly measures handshake garbage not yet collected (it depends on when V8 last collected),
 * not what connections keep alive.
 */
export async function measureMemory(
  server: RunningServer, pool: ClientPool, config: BenchConfig, headers: HeaderProfile,
): Promise<Row> {
  const url = server.inspectorUrl();
  if (url === undefined) throw new Error(`${server.spec.name}: no inspector URL on stderr (started without ${MEMORY_NODE_FLAGS.join(' ')}?)`);
  const inspector = await openInspector(url);
  try {
    const before = await settledReading(server, inspector, config);
    const identities: ClientIdentity[] = Array.from({ length: config.memoryConnections }, (_, i) => ({
      userId: `mem-${i}`,
      sessionId: `mem-session-${i}`,
    }));
    const connect = await pool.connect(server.wsUrl, identities, config.connectBatch, config.connectTimeoutMs, headers);
    const after = await settledReading(server, inspector, config);
    const { open } = await pool.progress();
    const problems = [
      ...(connect.failed > 0 ? [`${connect.failed} connects failed (${connect.errors[0] ?? '?'})`] : []),
      ...(open < connect.connected ? [`${connect.connected - open} closed before reading`] : []),
    ];
    return {
      scenario: memoryScenario(config.memoryConnections, headers),
      server: server.spec.name,
      rssKiBPerConn: open > 0 ? (after.rss - before.rss) / open : undefined,
      heapKiBPerConn: open > 0 ? (after.heap - before.heap) / open : undefined,
      note: [
        `RSS ${mib(before.rss)} → ${mib(after.rss)} MiB`,
        ...(headers === 'browser' ? [`+${extraHeaderBytes()} B of headers per upgrade`] : []),
        ...problems,
      ].join('; '),
    };
  } finally {
    inspector.close();
  }
}

/** Waits `settleMs`, forces a full GC, and reads RSS and live heap (KiB). */
async function settledReading(
  server: RunningServer, inspector: InspectorSession, config: BenchConfig,
): Promise<{ rss: number; heap: number }> {
  await sleep(config.settleMs);
  await inspector.collectGarbage();
  await sleep(250);
  return { rss: rssKiB(server.pid), heap: await inspector.heapUsedKiB() };
}

function mib(kib: number): string {
  return (kib / 1024).toFixed(1);
}

/** The bytes the browser profile adds to each upgrade request (as `Name: value\r\n` lines). */
function extraHeaderBytes(): number {
  return Object.entries(browserHeaders('sample')).reduce((total, [name, value]) => total + name.length + value.length + 4, 0);
}
