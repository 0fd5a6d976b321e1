import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { TEST_API_KEY } from './gateway.js';

/** One family of a parsed exposition, as `parse-prometheus-text-format` reads it (its types: parse-prometheus-text-format.d.ts). */
export type MetricFamily = ReturnType<typeof parsePrometheusTextFormat>[number];

/** One sample line: its metric name (a histogram's `_bucket`, `_sum`, `_count` included), labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const HISTOGRAM_TYPE_LINE = /^# TYPE (\S+) histogram$/gm;

/**
 * A parsed `/metrics` answer with typed lookups, read by the Prometheus exposition parser (not regular
 * expressions). The parser (1.1.1) folds every series of a histogram family into one, dropping their labels,
 * sums and counts — and here every series carries `node`. So the exposition is parsed twice: as it is, for
 * the families and their types; and with histogram families declared `untyped`, which the parser reads
 * sample by sample (`x_bucket{le=…}`, `x_sum`, `x_count` as series of their own), for the values.
 */
export class Scrape {
  private constructor(
    readonly families: readonly MetricFamily[],
    readonly samples: readonly Sample[],
  ) {}

  /** Parses a Prometheus text exposition. */
  static parse(text: string): Scrape {
    const samples = parsePrometheusTextFormat(text.replace(HISTOGRAM_TYPE_LINE, '# TYPE $1 untyped')).flatMap((family) =>
      family.metrics.map((sample) => ({ name: family.name, labels: { ...sample.labels }, value: Number((sample as { value: string }).value) })));
    return new Scrape(parsePrometheusTextFormat(text), samples);
  }

  family(name: string): MetricFamily {
    const family = this.families.find((candidate) => candidate.name === name);
    if (family === undefined) throw new Error(`no metric family ${name} in the exposition`);
    return family;
  }

  /** The samples named `name` whose labels include `labels`. */
  series(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  }

  /** The value of a counter or gauge summed over its series whose labels include `labels`; 0 when none does. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series(name, labels).reduce((sum, sample) => sum + sample.value, 0);
  }

  /** The histogram series of `name` whose labels include `labels` (summed if several): count, sum and cumulative buckets by `le`. */
  histogram(name: string, labels: Record<string, string> = {}): { count: number; sum: number; buckets: Record<string, number> } {
    if (this.family(name).type !== 'HISTOGRAM') throw new Error(`${name} is not a histogram`);
    const buckets: Record<string, number> = {};
    for (const sample of this.series(`${name}_bucket`, labels)) buckets[sample.labels.le!] = (buckets[sample.labels.le!] ?? 0) + sample.value;
    return { count: this.value(`${name}_count`, labels), sum: this.value(`${name}_sum`, labels), buckets };
  }
}

/**
 * GETs `/metrics` from the gateway at `url` with the test API key (or `headers` instead) and parses it;
 * throws unless it answers 200 in the Prometheus text format.
 */
export async function scrape(url: string, headers: Record<string, string> = { authorization: `Bearer ${TEST_API_KEY}` }): Promise<Scrape> {
  return scrapeUrl(`${url}/metrics`, headers);
}

/** GETs a full metrics URL (e.g. the METRICS_PORT listener's, without a key) and parses it. */
export async function scrapeUrl(metricsUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(metricsUrl, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${metricsUrl} answered ${response.status}: ${text}`);
  if (!response.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) throw new Error(`not the Prometheus text format: ${response.headers.get('content-type')}`);
  return Scrape.parse(text);
}
