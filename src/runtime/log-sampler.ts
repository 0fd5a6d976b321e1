import type { Logger } from 'pino';

/** The levels a sampled line may be written at. */
export type SampledLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a sampled line is grouped by (an address, a code): written into the line and into its summary. */
export type LogGroup = Readonly<Record<string, string>>;

export interface LogSamplerOptions {
  /** How long one window lasts (default 60 s): each group's line is written once per window, then counted. */
  readonly intervalMs?: number;
  /** Groups one window tracks (default 1,000); past it, the lines of further groups are counted together. */
  readonly maxGroups?: number;
}

/** One group's line in the current window: whether it was written, and how many were not. */
interface GroupTally {
  readonly line: SampledLine;
  readonly group: LogGroup;
  written: boolean;
  suppressed: number;
}

/** The group the lines of groups past `maxGroups` are counted under. */
const OVERFLOW: LogGroup = { group: 'others' };

/**
 * Keeps log lines a client can trigger over and over (a refused handshake, a flooding socket) from
 * flooding the log: a {@link SampledLine} is written at most once per subject (a socket, a connection) and
 * once per group (an address, a code) per window; every other call is counted, and when the window ends
 * each group with lines not written gets one summary line, `"<msg> (repeated)"` with `suppressed: <count>`.
 *
 * Bounded: subjects are held weakly, a window tracks at most `maxGroups` groups, and a timer runs only
 * while a window is open (unref'd: it never keeps the process alive). One instance serves the whole node.
 */
export class LogSampler {
  private readonly intervalMs: number;
  private readonly maxGroups: number;
  private readonly window = new Map<string, GroupTally>();
  private timer: NodeJS.Timeout | undefined;
  private lines = 0;

  constructor(options: LogSamplerOptions = {}) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxGroups = options.maxGroups ?? 1000;
  }

  /** A line written through this sampler to `logger` at `level`; build it once per call site. */
  line(logger: Logger, level: SampledLevel, msg: string): SampledLine {
    this.lines += 1;
    return new SampledLine(this, this.lines, logger, level, msg);
  }

  /**
   * Decides one call of `line`: true = write it (the first for its subject and group in this window);
   * false = counted in the group's summary instead.
   */
  admit(line: SampledLine, group: LogGroup, firstForSubject: boolean): boolean {
    const key = `${line.id}\u0000${JSON.stringify(group)}`;
    // Past maxGroups, a new group is counted under the line's overflow group, which is never written.
    const tally = this.window.get(key)
      ?? (this.window.size >= this.maxGroups ? this.open(`${line.id}\u0000*`, line, OVERFLOW, true) : this.open(key, line, group, false));
    if (firstForSubject && !tally.written) return (tally.written = true);
    tally.suppressed += 1;
    return false;
  }

  /** Writes the summary of every group with lines not written and starts a new window (the timer calls it; so does shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const tallies = [...this.window.values()];
    this.window.clear();
    for (const { line, group, suppressed } of tallies) {
      if (suppressed > 0) line.summarize(group, suppressed, this.intervalMs);
    }
  }

  /** The tally of `key` in this window, opened (and the window's timer started) if need be. */
  private open(key: string, line: SampledLine, group: LogGroup, written: boolean): GroupTally {
    let tally = this.window.get(key);
    if (tally === undefined) {
      this.window.set(key, (tally = { line, group, written, suppressed: 0 }));
      this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
    }
    return tally;
  }
}

/** One log line (a level and a message) of a call site, written as its {@link LogSampler} allows. */
export class SampledLine {
  private readonly written = new WeakSet<object>();

  /** `id` tells this line's groups apart from other lines' in the sampler. */
  constructor(
    private readonly sampler: LogSampler,
    readonly id: number,
    private readonly logger: Logger,
    private readonly level: SampledLevel,
    readonly msg: string,
  ) {}

  /**
   * Writes the line with `group` and `fields`, unless it was written for `subject` already or for `group`
   * in this window (then it is counted). Without a subject, only the group decides.
   */
  write(subject: object | undefined, group: LogGroup, fields: Readonly<Record<string, unknown>> = {}): void {
    const firstForSubject = subject === undefined || !this.written.has(subject);
    if (subject !== undefined) this.written.add(subject);
    if (this.sampler.admit(this, group, firstForSubject)) this.logger[this.level]({ ...fields, ...group }, this.msg);
  }

  /** Writes the summary of `suppressed` lines of `group` not written in the window that ended. */
  summarize(group: LogGroup, suppressed: number, intervalMs: number): void {
    this.logger[this.level]({ ...group, suppressed, intervalMs }, `${this.msg} (repeated)`);
  }
}
