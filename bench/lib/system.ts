import type { RowServer } from './report.js';
import type { RunningServer } from './servers.js';

/**
 * What a throughput measurement ((a), (b), (d)) runs against: where the HTTP publishes go, which processes'
 * CPU is the server's, and how the row names it. The clients are connected beforehand, to whichever node.
 */
export interface SystemUnderTest {
  /** The table's server column. */
  readonly label: RowServer;
  /** The node publishes are sent to (for (d), not the one the clients are connected to). */
  readonly publishTo: RunningServer;
  /** The server's processes: their CPU is summed into the row's CPU per message (both nodes of a cluster). */
  readonly serverPids: readonly number[];
  /** What the servers depend on (the bench's redis-server): its CPU is reported in a column of its own. */
  readonly backingPids: readonly number[];
  /** Names the server processes in the row's CPU split (e.g. ["A", "B"]); none for a single process. */
  readonly processNames: readonly string[];
  /** Optional per-window extra: started before the measured publishes, finished after; its text goes in the note. */
  readonly probe?: WindowProbe;
}

export interface WindowProbe {
  start(): Promise<void>;
  /** A short text for the row's note (e.g. Redis commands per publish), given the publishes answered. */
  finish(publishes: number): Promise<string | undefined>;
}

/** One server process, clients and publishes on it: the (a) and (b) set-up. */
export function singleServer(server: RunningServer): SystemUnderTest {
  return { label: server.spec.name, publishTo: server, serverPids: [server.pid], backingPids: [], processNames: [] };
}

/** Each server process's CPU per message (in `serverPids` order), for a row's `perProcessCpuUs`; undefined for a single process. */
export function cpuPerProcess(system: SystemUnderTest, perServerUs: readonly number[], per: number): number[] | undefined {
  if (system.processNames.length < 2 || per <= 0) return undefined;
  return system.processNames.map((_, i) => (perServerUs[i] ?? 0) / per);
}

/** "CPU µs/msg A 12.1 + B 1.9" for a cluster's row note; undefined for a single process. */
export function cpuSplit(system: SystemUnderTest, perServerUs: readonly number[], per: number): string | undefined {
  const split = cpuPerProcess(system, perServerUs, per);
  if (split === undefined) return undefined;
  return `µs/msg ${system.processNames.map((name, i) => `${name} ${(split[i] ?? 0).toFixed(2)}`).join(' + ')}`;
}
