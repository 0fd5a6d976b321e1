/** The first pause before a dead worker is replaced; each quick death after doubles it. */
export const FIRST_RESTART_PAUSE_MS = 1000;
/** The longest pause between two replacements of a worker that keeps dying. */
export const MAX_RESTART_PAUSE_MS = 30_000;
/** A worker ready this long was healthy: its death starts the pauses over from the first. */
export const STABLE_AFTER_MS = 60_000;

/**
 * The pause before replacing a worker that died: FIRST_RESTART_PAUSE_MS, doubled at each death of its
 * replacements up to MAX_RESTART_PAUSE_MS (a worker that dies at start, or soon after, is not restarted in a
 * tight loop), and back to the first once the one that died had been ready STABLE_AFTER_MS.
 *
 * @param previousMs the pause before the worker that died was started (0 for one of the first workers)
 * @param readyForMs how long it had been ready (0 if it never was)
 */
export function restartPause(previousMs: number, readyForMs: number): number {
  if (readyForMs >= STABLE_AFTER_MS) return FIRST_RESTART_PAUSE_MS;
  return Math.min(Math.max(previousMs * 2, FIRST_RESTART_PAUSE_MS), MAX_RESTART_PAUSE_MS);
}
