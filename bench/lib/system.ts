import type { CpuUsage } from './cpu-window.js';
import { joinDetails, type RowServer } from './report.js';
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
  /** What the servers depend on (the bench's redis-servers): their CPU is reported in a column of its own. */
  readonly backingPids: readonly number[];
  /** Names the server processes in the row's CPU split (e.g. ["A", "B"]); none for a single process. */
  readonly processNames: readonly string[];
  /** Names the backing processes in the split (e.g. ["master", "replica", "sentinels", …]: same names summed). */
  readonly backingNames: readonly string[];
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
  return { label: server.spec.name, publishTo: server, serverPids: [server.pid], backingPids: [], processNames: [], backingNames: [] };
}

/** Each server process's CPU per message (in `serverPids` order), for a row's `perProcessCpuUs`; undefined for a single process. */
export function cpuPerProcess(system: SystemUnderTest, perServerUs: readonly number[], per: number): number[] | undefined {
  if (system.processNames.length < 2 || per <= 0) return undefined;
  return system.processNames.map((_, i) => (perServerUs[i] ?? 0) / per);
}

/**
 * The row's CPU split, "µs/msg A 12.10 + B 1.90; Redis µs/msg master 8.00 + replica 2.10 + sentinels 0.05",
 * each part only when it names two or more processes (or groups of the same name); undefined for none.
 */
export function cpuSplit(system: SystemUnderTest, cpu: CpuUsage, per: number): string | undefined {
  if (per <= 0) return undefined;
  const servers = split(system.processNames, cpu.perServerUs, per);
  const backing = split(system.backingNames, cpu.perBackingUs, per);
  return joinDetails(servers && `µs/msg ${servers}`, backing && `Redis µs/msg ${backing}`);
}

/** "A 12.10 + B 1.90": the CPU of processes of the same name summed, per message; undefined for fewer than two names. */
function split(names: readonly string[], perUs: readonly number[], per: number): string | undefined {
  const sums = new Map<string, number>();
  names.forEach((name, i) => sums.set(name, (sums.get(name) ?? 0) + (perUs[i] ?? 0)));
  if (sums.size < 2) return undefined;
  return [...sums].map(([name, us]) => `${name} ${(us / per).toFixed(2)}`).join(' + ');
}
