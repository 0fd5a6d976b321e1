/**
 * Types of `parse-prometheus-text-format` 1.1.1, which ships none: what test/support/prometheus.ts reads
 * of its output (prom2json's shape: values stay strings as written).
 */
declare module 'parse-prometheus-text-format' {
  /** One series of a counter, gauge or untyped family. */
  interface ParsedSample {
    readonly value: string;
    readonly labels?: Readonly<Record<string, string>>;
  }

  /** One series of a histogram family: cumulative counts by upper bound (`+Inf` included). */
  interface ParsedHistogram {
    readonly buckets: Readonly<Record<string, string>>;
    readonly count: string;
    readonly sum: string;
    readonly labels?: Readonly<Record<string, string>>;
  }

  interface ParsedFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly (ParsedSample | ParsedHistogram)[];
  }

  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
