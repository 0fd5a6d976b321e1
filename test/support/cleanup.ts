/**
 * Work to undo after the current test: clients, servers, gateways. Runs newest first, so clients close
 * before the gateways they talk to; test/support/setup.ts runs it after each test. No vitest in here, so
 * the bench can use the modules that register cleanups (with their manual mode).
 */
const cleanups: (() => Promise<void> | void)[] = [];

/** Registers `cleanup` to run after the current test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** Runs and forgets every registered cleanup, the last registered first. */
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}
