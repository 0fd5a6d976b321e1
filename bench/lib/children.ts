import type { ChildProcess } from 'node:child_process';

/**
 * Every child process the bench starts (servers and client workers), so that an exit, an error or Ctrl-C
 * never leaves one running. Children are killed by their own pid, never by name.
 */
const live = new Set<ChildProcess>();
let installed = false;

/** Registers a child; it is forgotten once it exits. Installs the exit/signal hooks on first use. */
export function track(child: ChildProcess): ChildProcess {
  installHooks();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGKILLs every child still running. Synchronous, so it is safe inside a process 'exit' handler. */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

function installHooks(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      killAll();
      process.exit(130);
    });
  }
}
