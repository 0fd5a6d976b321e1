/** Latency summary in milliseconds; NaN when there were no samples. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
}

/** Nearest-rank percentile (0 < p ≤ 100) of values already sorted ascending. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

/** Merges the latency samples of several workers and summarises them. */
export function summarize(parts: readonly Float64Array[]): LatencySummary {
  const all = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  all.sort(); // typed arrays sort numerically
  return { count: all.length, p50: percentile(all, 50), p99: percentile(all, 99) };
}
