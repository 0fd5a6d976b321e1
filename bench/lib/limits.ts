import type { BenchConfig } from './config.js';
import { ephemeralPortCount, openFilesLimit } from './proc-stats.js';

/** Refuses to start when the servers or workers would run out of file descriptors or ephemeral ports. */
export function checkLimits(config: BenchConfig): void {
  const { phases } = config;
  const peak = Math.max(
    phases.has('a') ? Math.max(...config.fanout.map((step) => step.roomSize)) : 0,
    phases.has('b') ? config.targetedUsers : 0,
    phases.has('c') ? config.memoryConnections : 0,
    phases.has('d') ? Math.max(config.clusterFanout.roomSize, config.targetedUsers) : 0,
    phases.has('e') ? 2 * config.auth.handshakes : 0, // (e) holds a row's sockets open (to two servers) in this process
  );
  const needed = peak + 1000; // the server holds every connection, plus its own files and sockets
  const limit = openFilesLimit();
  if (limit < needed) {
    throw new Error(
      `open-file limit is ${limit} but the bench needs about ${needed} (one fd per connection in the server). ` +
        `Raise it first, e.g. \`ulimit -n 65536\` in this shell, or run with BENCH_QUICK=1.`,
    );
  }
  const ports = ephemeralPortCount();
  if (ports < peak + 1000) {
    throw new Error(`only ${ports} ephemeral ports (net.ipv4.ip_local_port_range) for ${peak} client connections`);
  }
}
