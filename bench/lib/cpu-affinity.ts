import { execFileSync } from 'node:child_process';

/**
 * CPU pinning with util-linux `taskset`, for phase (g): which CPUs a running process and all its threads
 * may use. Servers are pinned from their start instead (StartOptions.cpus in servers.ts), so the processes
 * they fork inherit it.
 */

/** Whether `taskset` can be run here (util-linux; absent on some minimal images). */
export function tasksetAvailable(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The CPUs a process may run on now, as a `taskset -c` list (e.g. "0,1"). */
export function cpuList(pid: number): string {
  const output = execFileSync('taskset', ['-c', '-p', String(pid)], { encoding: 'utf8' });
  const list = /affinity list:\s*(\S+)/.exec(output)?.[1];
  if (list === undefined) throw new Error(`taskset: no affinity list for pid ${pid} in "${output.trim()}"`);
  return list;
}

/** Lets every thread of each process run on `cpus` only (a `taskset -c` list such as "0" or "0-1"). */
export function pin(pids: readonly number[], cpus: string): void {
  for (const pid of pids) execFileSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdio: 'ignore' });
}
