import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * One counted series: the hot path adds to {@link value}, with no allocation and no hashing; prom-client
 * reads it when Prometheus scrapes. (prom-client's own `inc()` and `observe()` — `labels(…)` children
 * included — build a label-hash string, and `observe()` two objects, on every call.)
 */
export class Tally {
  value = 0;

  inc(): void {
    this.value += 1;
  }
}

interface CounterOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  /** At most two; values are given in this order. */
  readonly labelNames?: readonly L[];
  readonly registers: Registry[];
}

/**
 * A Prometheus counter whose series are {@link Tally} cells, one per label set, made on first use and kept
 * for the process's life: label values must come from a bounded set (catalog codes, Socket.IO's reasons,
 * names the gateway declares), never from what a client sends. A hot path keeps its cell ({@link tally})
 * and adds to it; elsewhere {@link count} looks the cell up (a Map lookup per label, nothing allocated).
 */
export class TallyCounter<L extends string = never> {
  readonly metric: Counter<L>;
  private readonly labelNames: readonly L[];
  private readonly series: { readonly labels: Partial<Record<L, string>>; readonly tally: Tally }[] = [];
  private readonly byFirst = new Map<string, Tally>();
  private readonly byPair = new Map<string, Map<string, Tally>>();
  private source: (() => readonly (readonly [string, number])[]) | undefined;

  constructor({ name, help, labelNames = [], registers }: CounterOptions<L>) {
    this.labelNames = labelNames;
    const copyInto = (counter: Counter<L>) => {
      for (const [value, count] of this.source?.() ?? []) this.tally(value).value = count;
      counter.reset();
      for (const { labels, tally } of this.series) counter.inc(labels, tally.value);
    };
    this.metric = new Counter<L>({
      name, help, labelNames, registers,
      collect() {
        copyInto(this);
      },
    });
  }

  /** The cell of one label set (label values in `labelNames` order; none for a counter without labels). */
  tally(first = '', second = ''): Tally {
    if (this.labelNames.length < 2) return this.byFirst.get(this.labelNames.length === 0 ? '' : first) ?? this.create(first, second);
    return this.byPair.get(first)?.get(second) ?? this.create(first, second);
  }

  /** Adds one to the series of these label values. */
  count(first = '', second = ''): void {
    this.tally(first, second).value += 1;
  }

  /**
   * Reads this one-label counter's counts from `source` when scraped, instead of counting them here: for
   * counts a component keeps anyway (`[labelValue, count]` pairs, each only ever growing).
   */
  readFrom(source: () => readonly (readonly [string, number])[]): void {
    this.source = source;
  }

  private create(first: string, second: string): Tally {
    const tally = new Tally();
    const values = [first, second];
    const labels = Object.fromEntries(this.labelNames.map((name, index) => [name, values[index]])) as Partial<Record<L, string>>;
    this.series.push({ labels, tally });
    if (this.labelNames.length < 2) {
      this.byFirst.set(this.labelNames.length === 0 ? '' : first, tally);
    } else {
      let seconds = this.byPair.get(first);
      if (seconds === undefined) this.byPair.set(first, (seconds = new Map()));
      seconds.set(second, tally);
    }
    return tally;
  }
}

/**
 * What one kind of request or event came to, on a two-label counter (`kind`, `outcome`) or a one-label one
 * (`outcome`): `ok`, or the catalog code it was refused with. The `ok` cell is resolved once.
 */
export class Outcomes {
  private readonly okTally: Tally;

  constructor(
    private readonly counter: TallyCounter<string>,
    private readonly kind?: string,
  ) {
    this.okTally = kind === undefined ? counter.tally('ok') : counter.tally(kind, 'ok');
  }

  ok(): void {
    this.okTally.value += 1;
  }

  refused(code: string): void {
    if (this.kind === undefined) this.counter.count(code);
    else this.counter.count(this.kind, code);
  }
}

/** One histogram series: counts per bucket, sum and count, as plain numbers. */
export class DurationSeries {
  private readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  /** Records one duration, in seconds. */
  observe(seconds: number): void {
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]!) bucket += 1;
    if (bucket < bounds.length) this.counts[bucket] = this.counts[bucket]! + 1;
    this.sum += seconds;
    this.count += 1;
  }

  /** Observations at or under each bound (Prometheus's cumulative `le` buckets). */
  cumulative(): number[] {
    let total = 0;
    return Array.from(this.counts, (count) => (total += count));
  }
}

interface HistogramOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  /** At most one. */
  readonly labelNames?: readonly L[];
  /** Upper bounds in seconds, ascending. */
  readonly buckets: readonly number[];
  readonly registers: Registry[];
}

/** A Prometheus histogram of durations whose series are {@link DurationSeries}, one per label value. */
export class DurationHistogram<L extends string = never> {
  readonly metric: Histogram<L>;
  private readonly bySeries = new Map<string, DurationSeries>();
  private readonly series: { readonly labels: Partial<Record<L, string>>; readonly cells: DurationSeries }[] = [];

  constructor(private readonly options: HistogramOptions<L>) {
    this.metric = new SeriesHistogram(options, this.series);
  }

  /** The series of one label value (none for a histogram without labels), made on first use and kept. */
  of(value = ''): DurationSeries {
    const key = this.options.labelNames?.length === 1 ? value : '';
    let cells = this.bySeries.get(key);
    if (cells === undefined) {
      cells = new DurationSeries(this.options.buckets);
      this.bySeries.set(key, cells);
      const labels = (this.options.labelNames?.length === 1 ? { [this.options.labelNames[0]!]: key } : {}) as Partial<Record<L, string>>;
      this.series.push({ labels, cells });
    }
    return cells;
  }
}

/** A value line of prom-client's exposition, as its registry reads it from a histogram. */
interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels: Record<string, string>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * prom-client's Histogram, exported from {@link DurationSeries} cells instead of its own state. prom-client
 * 15 (pinned in package.json) prints a histogram through `getForPromString()` (and `get()` goes through it
 * too), so that is what this overrides; test/metrics.test.ts parses the result.
 */
class SeriesHistogram<L extends string> extends Histogram<L> {
  private readonly bounds: readonly number[];

  constructor(
    options: HistogramOptions<L>,
    private readonly cellSeries: readonly { readonly labels: Partial<Record<L, string>>; readonly cells: DurationSeries }[],
  ) {
    super({ name: options.name, help: options.help, labelNames: options.labelNames ?? [], buckets: [...options.buckets], registers: options.registers });
    this.bounds = options.buckets;
  }

  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: ExportedValue[]; aggregator: 'sum' }> {
    // prom-client keeps `name` and `help` as plain fields its typings do not declare.
    const { name, help } = this as unknown as { name: string; help: string };
    const values: ExportedValue[] = [];
    for (const { labels, cells } of this.cellSeries) {
      const shared = labels as Record<string, string>;
      const cumulative = cells.cumulative();
      this.bounds.forEach((bound, index) => values.push({ labels: { le: bound }, sharedLabels: shared, value: cumulative[index]!, metricName: `${name}_bucket` }));
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: shared, value: cells.count, metricName: `${name}_bucket` },
        { labels: {}, sharedLabels: shared, value: cells.sum, metricName: `${name}_sum` },
        { labels: {}, sharedLabels: shared, value: cells.count, metricName: `${name}_count` },
      );
    }
    return { name, help, type: 'histogram', values, aggregator: 'sum' };
  }
}
