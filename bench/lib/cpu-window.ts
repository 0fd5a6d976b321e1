import { cpuMicros, hostCpuMicros } from './proc-stats.js';

/** CPU used during a measurement window. */
export interface CpuUsage {
  /** CPU time of the server under test, µs. */
  readonly serverUs: number;
  /** Share of all cores busy, 0–1 (everything: server, clients, publisher, kernel, other processes). */
  readonly hostBusy: number;
  /**
   * Share of all cores busy with something other than the bench's own processes (and kernel work not
   * charged to them), 0–1. Well above a few percent means another workload disturbed the measurement.
   */
  readonly otherBusy: number;
}

/**
 * Starts measuring CPU; the returned function ends the window. `benchPids` are the load generator's
 * processes (client workers); this process is always counted as the bench's own.
 */
export function openCpuWindow(serverPid: number, benchPids: readonly number[]): () => CpuUsage {
  const own = () => benchPids.reduce((sum, pid) => sum + cpuMicros(pid), cpuMicros(process.pid));
  const server0 = cpuMicros(serverPid);
  const own0 = own();
  const host0 = hostCpuMicros();
  return () => {
    const serverUs = cpuMicros(serverPid) - server0;
    const ownUs = own() - own0;
    const host = hostCpuMicros();
    const total = host.total - host0.total;
    const busy = host.busy - host0.busy;
    return {
      serverUs,
      hostBusy: total > 0 ? busy / total : 0,
      otherBusy: total > 0 ? Math.max(0, busy - serverUs - ownUs) / total : 0,
    };
  };
}
