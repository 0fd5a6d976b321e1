import { cpuMicros, hostCpuMicros } from './proc-stats.js';

/** CPU used during a measurement window. */
export interface CpuUsage {
  /** CPU time of the server under test, µs (summed over its processes: both nodes of a cluster). */
  readonly serverUs: number;
  /** The same per server process, in the order given. */
  readonly perServerUs: readonly number[];
  /** CPU time of the processes the servers depend on (the bench's Redis), µs; 0 when there are none. */
  readonly backingUs: number;
  /** The same per backing process, in the order given. */
  readonly perBackingUs: readonly number[];
  /** Share of all cores busy, 0–1 (everything: server, clients, publisher, kernel, other processes). */
  readonly hostBusy: number;
  /**
   * Share of all cores busy with something other than the bench's own processes (and kernel work not
   * charged to them), 0–1. Well above a few percent means another workload disturbed the measurement.
   */
  readonly otherBusy: number;
}

/** Which processes a measurement window accounts for. */
export interface CpuSubjects {
  /** The server under test: one process, or every node of a cluster. */
  readonly serverPids: readonly number[];
  /** What the servers depend on (the bench's redis-server): reported apart, and not "other" load. */
  readonly backingPids?: readonly number[];
  /** The load generator's processes (client workers); this process is always counted as the bench's own. */
  readonly benchPids: readonly number[];
}

/** Starts measuring CPU; the returned function ends the window. */
export function openCpuWindow({ serverPids, backingPids = [], benchPids }: CpuSubjects): () => CpuUsage {
  const own = () => benchPids.reduce((sum, pid) => sum + cpuMicros(pid), cpuMicros(process.pid));
  const server0 = serverPids.map(cpuMicros);
  const backing0 = backingPids.map(cpuMicros);
  const own0 = own();
  const host0 = hostCpuMicros();
  return () => {
    const perServerUs = serverPids.map((pid, i) => cpuMicros(pid) - (server0[i] ?? 0));
    const serverUs = perServerUs.reduce((a, b) => a + b, 0);
    const perBackingUs = backingPids.map((pid, i) => cpuMicros(pid) - (backing0[i] ?? 0));
    const backingUs = perBackingUs.reduce((a, b) => a + b, 0);
    const ownUs = own() - own0;
    const host = hostCpuMicros();
    const total = host.total - host0.total;
    const busy = host.busy - host0.busy;
    return {
      serverUs,
      perServerUs,
      backingUs,
      perBackingUs,
      hostBusy: total > 0 ? busy / total : 0,
      otherBusy: total > 0 ? Math.max(0, busy - serverUs - backingUs - ownUs) / total : 0,
    };
  };
}
