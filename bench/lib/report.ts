import type { ServerName } from './servers.js';

export type Scenario = string;

/** The table's server column: one of the servers, or two Switchboard nodes over Redis (phase d). */
export type RowServer = ServerName | 'switchboard×2';

/** One line of the results table: one scenario on one server. Absent values print as "–". */
export interface Row {
  readonly scenario: Scenario;
  readonly server: RowServer;
  /**
   * Server CPU (user + system) per delivered message (a, d fan-out) or per publish (b, d targeted), in µs;
   * for two nodes, both nodes' CPU summed.
   */
  readonly cpuUs?: number;
  /**
   * `cpuUs` per server process, in the system's `serverPids` order (both nodes of (d); the primary, then each
   * worker, of (g)); absent for a single process.
   */
  readonly perProcessCpuUs?: readonly number[];
  /** The same for the bench's redis-server (d), which the nodes' figure leaves out. */
  readonly backingCpuUs?: number;
  readonly msgsPerS?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** Fan-out: p50 over publishes of the latency of each one's first delivery (the hop, before the room's spread). */
  readonly firstDeliveryMs?: number;
  /** Fan-out: p50 of the publishes' HTTP round trips. */
  readonly answeredMs?: number;
  /** Expected distinct deliveries that never arrived. */
  readonly lost?: number;
  readonly duplicates?: number;
  /** Share of the whole machine's CPU (all cores: server, clients, publisher) busy during the measurement. */
  readonly hostBusy?: number;
  /** Share of the machine busy with processes other than the bench's own during the measurement. */
  readonly otherBusy?: number;
  /** RSS growth per connection, after a forced full GC on both readings. */
  readonly rssKiBPerConn?: number;
  /** Live JS heap growth per connection, after a forced full GC on both readings. */
  readonly heapKiBPerConn?: number;
  /** Anything that makes the row less trustworthy: failed connects or publishes, stale deliveries. */
  readonly note?: string;
  /**
   * What the measurement looked like inside (d: CPU per node, Redis commands per publish), printed after
   * the note. Unlike the note, only the kept run's (lib/repeat.ts).
   */
  readonly detail?: string;
}

const COLUMNS = [
  'scenario', 'server', 'CPU µs/msg', 'Redis µs/msg', 'msgs/s', 'p50 ms', 'p99 ms', 'loss (dup)', 'host CPU', 'RSS KiB/conn', 'heap KiB/conn', 'note',
];

/** The results as a Markdown table. */
export function formatTable(rows: readonly Row[]): string {
  const lines = rows.map((row) => [
    row.scenario,
    row.server,
    fixed(row.cpuUs, 2),
    fixed(row.backingCpuUs, 2),
    fixed(row.msgsPerS, 0),
    fixed(row.p50Ms, 2),
    fixed(row.p99Ms, 2),
    row.lost === undefined ? '–' : `${row.lost} (${row.duplicates ?? 0})`,
    row.hostBusy === undefined ? '–' : `${(row.hostBusy * 100).toFixed(0)}%`,
    fixed(row.rssKiBPerConn, 2),
    fixed(row.heapKiBPerConn, 2),
    joinDetails(row.note, row.detail) ?? '',
  ]);
  return [
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map(() => '---').join('|')}|`,
    ...lines.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}

/** A Switchboard ÷ plain comparison a project goal is stated in. */
export interface GoalCheck {
  readonly label: string;
  readonly scenario: Scenario;
  readonly metric: 'cpuUs' | 'p99Ms' | 'rssKiBPerConn' | 'heapKiBPerConn';
  /** The ratio must not exceed this. */
  readonly maxRatio: number;
}

/** Ratios this close above a goal are reported as a tie: run-to-run noise on one machine is a few percent. */
const NOISE = 0.05;

/**
 * Lines "label: switchboard X / plain Y = R× (goal ≤ G×) PASS|TIE|MISS", plus Switchboard ÷ floor for
 * context. TIE: above the goal by less than the noise.
 */
export function formatRatios(rows: readonly Row[], checks: readonly GoalCheck[]): string {
  const value = (server: ServerName, check: GoalCheck) =>
    rows.find((row) => row.server === server && row.scenario === check.scenario)?.[check.metric];
  const lines = checks.map((check) => {
    const mine = value('switchboard', check);
    const plain = value('plain', check);
    const floor = value('floor', check);
    if (mine === undefined || plain === undefined || plain === 0) return `- ${check.label}: n/a (not measured)`;
    const ratio = mine / plain;
    const verdict = ratio <= check.maxRatio ? 'PASS' : ratio <= check.maxRatio * (1 + NOISE) ? 'TIE (within noise)' : 'MISS';
    const vsFloor = floor === undefined || floor === 0 ? '' : `; vs floor ${(mine / floor).toFixed(2)}×`;
    return `- ${check.label}: switchboard ${mine.toFixed(2)} / plain ${plain.toFixed(2)} = **${ratio.toFixed(2)}×** (goal ≤ ${check.maxRatio}×) ${verdict}${vsFloor}`;
  });
  return lines.join('\n');
}

/** The non-empty parts, "; "-separated (undefined when none). */
export function joinDetails(...parts: readonly (string | undefined)[]): string | undefined {
  const present = parts.filter((part): part is string => part !== undefined && part.length > 0);
  return present.length > 0 ? present.join('; ') : undefined;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** Other processes using more than this share of the machine make a row's note warn about it. */
const OTHER_LOAD_WARNING = 0.05;

/**
 * The row's note: outside load on the machine, failed publishes (with the first reason) and deliveries
 * left over from an earlier measurement.
 */
export function publishNote(otherBusy: number, failedPublishes: number, failures: readonly string[], stale: number): string | undefined {
  const parts = [
    ...(otherBusy > OTHER_LOAD_WARNING ? [`other load ${(otherBusy * 100).toFixed(0)}% of host`] : []),
    ...(failedPublishes > 0 ? [`${failedPublishes} publishes failed (${failures[0] ?? '?'})`] : []),
    ...(stale > 0 ? [`${stale} stale deliveries`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : undefined;
}
