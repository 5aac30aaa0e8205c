// Progress for long work (teacher calls, training, sampling, verification). Always on stderr, so
// stdout carries only results (JSON, JSONL) and stays pipeable. On a terminal: bars with rate and
// ETA that log lines print above (terminal-bars.ts). Off a terminal (CI, pipes): plain lines with
// the same figures, throttled.
import { formatSeconds, TerminalBars, type BarState } from './terminal-bars';

/** How progress is shown. */
export type ProgressMode = 'bar' | 'lines' | 'quiet';

/** Extra figures shown beside a bar, e.g. `{ loss: '2.31', 'tok/s': '5120' }`. */
export type ProgressFields = Record<string, string | number>;

/** One unit of work with a known size. */
export interface ProgressTask {
  /** Advances by `increment` (default 1) and updates the extra figures. */
  tick(increment?: number, fields?: ProgressFields): void;
  /** Marks the task finished (prints its final line in `lines` mode). */
  done(fields?: ProgressFields): void;
}

/** Reports progress and log lines for one command. */
export interface ProgressReporter {
  readonly mode: ProgressMode;
  task(label: string, total: number): ProgressTask;
  /** An informational line (suppressed by --quiet). */
  log(message: string): void;
  close(): void;
}

/** Picks the mode: quiet when asked, bars when both stdout and stderr are terminals, else lines. */
export function progressMode(quiet: boolean | undefined): ProgressMode {
  if (quiet) return 'quiet';
  return process.stdout.isTTY && process.stderr.isTTY ? 'bar' : 'lines';
}

function formatFields(fields: ProgressFields | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .map(([key, value]) => ` ${key}=${value}`)
    .join('');
}

/** A progress line as `lines` mode prints it: `label: done/total (pct) rate/s ETA t fields`. */
export function formatProgressLine(
  label: string,
  done: number,
  total: number,
  elapsedSeconds: number,
  fields?: ProgressFields,
): string {
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : Number.NaN;
  const remaining = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
  // A task reported only when finished has no measurable rate; say so rather than print 0/s.
  const percentDone = total > 0 ? Math.floor((100 * done) / total) : 100;
  const timing =
    done >= total ? `in ${formatSeconds(elapsedSeconds)}` : `ETA ${formatSeconds(remaining)}`;
  const rateText = Number.isFinite(rate) ? `${rate.toFixed(1)}/s` : '-/s';
  return `${label}: ${done}/${total} (${percentDone}%) ${rateText} ${timing}${formatFields(fields)}`;
}

class LineTask implements ProgressTask {
  private count = 0;
  private readonly started = Date.now();
  // The first line comes after one interval: short tasks print only their final line.
  private lastPrinted = Date.now();
  private finished = false;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly write: (line: string) => void,
    private readonly intervalMs: number,
  ) {}
  tick(increment = 1, fields?: ProgressFields): void {
    this.count += increment;
    const now = Date.now();
    if (now - this.lastPrinted >= this.intervalMs && this.count < this.total) {
      this.lastPrinted = now;
      this.write(
        formatProgressLine(this.label, this.count, this.total, (now - this.started) / 1000, fields),
      );
    }
  }
  done(fields?: ProgressFields): void {
    if (this.finished) return;
    this.finished = true;
    const seconds = (Date.now() - this.started) / 1000;
    this.write(
      formatProgressLine(this.label, Math.max(this.count, this.total), this.total, seconds, fields),
    );
  }
}

class BarTask implements ProgressTask {
  private finished = false;
  constructor(
    private readonly bars: TerminalBars,
    private readonly bar: BarState,
  ) {}
  tick(increment = 1, fields?: ProgressFields): void {
    if (this.finished) return;
    this.bar.value += increment;
    if (fields) this.bar.fields = formatFields(fields);
    this.bars.changed();
  }
  done(fields?: ProgressFields): void {
    if (this.finished) return;
    this.finished = true;
    this.bar.value = Math.max(this.bar.value, this.bar.total);
    if (fields) this.bar.fields = formatFields(fields);
    this.bars.finish(this.bar);
  }
}

const silentTask: ProgressTask = { tick() {}, done() {} };

/** Creates the reporter for a mode; `lines` mode prints at most one line per `intervalMs` per task. */
export function createProgress(
  mode: ProgressMode,
  options: { intervalMs?: number; write?: (line: string) => void } = {},
): ProgressReporter {
  const write = options.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  if (mode === 'quiet') {
    return { mode, task: () => silentTask, log() {}, close() {} };
  }
  if (mode === 'lines') {
    const intervalMs = options.intervalMs ?? 2000;
    return {
      mode,
      task: (label, total) => new LineTask(label, total, write, intervalMs),
      log: write,
      close() {},
    };
  }
  const stream = process.stderr;
  const bars = new TerminalBars({
    write: (text) => void stream.write(text),
    // A pseudo-terminal of unknown size reports 0 columns: assume the classic 80.
    columns: () => stream.columns || Number(process.env.COLUMNS) || 80,
  });
  return {
    mode,
    task: (label, total) => new BarTask(bars, bars.add(label, total)),
    log: (message) => bars.log(message),
    close: () => bars.close(),
  };
}
