import { measureOnQuietHost } from './quiet-host.js';
import type { Row } from './report.js';

/**
 * Runs a measurement `times` times (each on a quiet machine, see quiet-host.ts) and keeps the row with
 * the median server CPU; its note gives the CPU range over all runs, so the table shows the noise.
 * Run-to-run noise on this machine is about ±10–15% for a single fan-out window.
 */
export async function medianOf(times: number, measure: () => Promise<Row>, log: (message: string) => void): Promise<Row> {
  const rows: Row[] = [];
  for (let i = 0; i < times; i += 1) rows.push(await measureOnQuietHost(measure, log));
  const sorted = [...rows].sort((a, b) => (a.cpuUs ?? 0) - (b.cpuUs ?? 0));
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('medianOf: no runs');
  if (rows.length === 1) return median;
  const range = `median of ${rows.length}, CPU ${sorted[0]?.cpuUs?.toFixed(1)}–${sorted.at(-1)?.cpuUs?.toFixed(1)} µs`;
  // Loss and duplicates are summed over all runs: a message lost in a discarded run still counts.
  return {
    ...median,
    lost: rows.reduce((sum, row) => sum + (row.lost ?? 0), 0),
    duplicates: rows.reduce((sum, row) => sum + (row.duplicates ?? 0), 0),
    note: [range, ...rows.flatMap((row) => (row.note === undefined ? [] : [row.note]))].join('; '),
  };
}
