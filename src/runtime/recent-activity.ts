/** Where refusals are reported as they are answered (the HTTP error path, the socket handshake). */
export interface RefusalRecorder {
  /** One refusal with this catalog code was answered now. */
  refused(code: string): void;
}

/** One catalog code's refusals within the window. */
export interface RefusalCount {
  readonly code: string;
  readonly count: number;
  /** Unix milliseconds of the latest one. */
  readonly lastAt: number;
}

/**
 * What this node did over the last `windowS` seconds, in one-second buckets: publications and refusals by
 * catalog code — what the admin dashboard charts. A ring of buckets indexed by the second, so memory is
 * bounded by the window (and the number of catalog codes) whatever the traffic, and recording is O(1).
 * One node's own counts; in memory, gone at restart.
 */
export class RecentActivity implements RefusalRecorder {
  /** The Unix second each bucket currently holds (a bucket of another second is stale). */
  private readonly seconds: number[];
  private readonly published: number[];
  private readonly refusals: Map<string, { count: number; lastAt: number }>[];

  constructor(
    readonly windowS = 300,
    private readonly now: () => number = Date.now,
  ) {
    this.seconds = new Array<number>(windowS).fill(-1);
    this.published = new Array<number>(windowS).fill(0);
    this.refusals = Array.from({ length: windowS }, () => new Map());
  }

  /** Adds `count` publications to the current second. */
  countPublished(count: number): void {
    if (count <= 0) return;
    const index = this.bucket(this.second());
    this.published[index] = this.published[index]! + count;
  }

  refused(code: string): void {
    const at = this.now();
    const bucket = this.refusals[this.bucket(Math.floor(at / 1000))]!;
    const entry = bucket.get(code);
    if (entry === undefined) bucket.set(code, { count: 1, lastAt: at });
    else {
      entry.count += 1;
      entry.lastAt = at;
    }
  }

  /** Publications per second over the window, oldest first, up to the last complete second (`windowS` numbers). */
  publishedPerSecond(): number[] {
    const last = this.second() - 1;
    const series: number[] = [];
    for (let second = last - this.windowS + 1; second <= last; second += 1) {
      const index = this.indexOf(second);
      series.push(this.seconds[index] === second ? this.published[index]! : 0);
    }
    return series;
  }

  /** Refusals within the window by code, the most frequent first. */
  refusalsByCode(): RefusalCount[] {
    const oldest = this.second() - this.windowS + 1;
    const totals = new Map<string, { count: number; lastAt: number }>();
    for (let index = 0; index < this.windowS; index += 1) {
      if (this.seconds[index]! < oldest) continue;
      for (const [code, { count, lastAt }] of this.refusals[index]!) {
        const total = totals.get(code);
        if (total === undefined) totals.set(code, { count, lastAt });
        else {
          total.count += count;
          total.lastAt = Math.max(total.lastAt, lastAt);
        }
      }
    }
    return [...totals].map(([code, { count, lastAt }]) => ({ code, count, lastAt })).sort((a, b) => b.count - a.count || b.lastAt - a.lastAt);
  }

  private second(): number {
    return Math.floor(this.now() / 1000);
  }

  private indexOf(second: number): number {
    return ((second % this.windowS) + this.windowS) % this.windowS;
  }

  /** The bucket of `second`, emptied first when it still holds an older second. */
  private bucket(second: number): number {
    const index = this.indexOf(second);
    if (this.seconds[index] !== second) {
      this.seconds[index] = second;
      this.published[index] = 0;
      this.refusals[index]!.clear();
    }
    return index;
  }
}
