// Progress bars on a terminal that log lines never cut through. The bars always sit at the
// bottom: every redraw moves the cursor back up over the lines it drew, clears to the end of
// the screen, prints any pending log lines (they scroll up and stay), then draws the active bars
// again. A finished bar prints its final line once, as a log line, and leaves the bottom area.
// Bar lines are cut to the terminal's width, so a redraw always knows how many rows to go back up.

/** The figures one bar shows. */
export interface BarState {
  label: string;
  value: number;
  total: number;
  startedMs: number;
  fields: string;
}

/** What the renderer writes to: a terminal stream, or a test double. */
export interface BarOutput {
  write(text: string): void;
  /** Terminal width; lines are cut to one less, so none wraps. */
  columns(): number;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 100;

/** `42s`, `2m05s`, or `?` when unknown. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds - minutes * 60)).padStart(2, '0')}s`;
}

/** `label [████░░░░] 3/10 30% | 5.1/s | ETA 2s fields`, or `... | in 4s` once finished. */
export function renderBar(bar: BarState, nowMs: number): string {
  const fraction = bar.total > 0 ? Math.min(1, bar.value / bar.total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const seconds = (nowMs - bar.startedMs) / 1000;
  const rate = seconds > 0 ? bar.value / seconds : Number.NaN;
  const finished = bar.value >= bar.total;
  const timing = finished
    ? `in ${formatSeconds(seconds)}`
    : `ETA ${formatSeconds(rate > 0 ? (bar.total - bar.value) / rate : Number.POSITIVE_INFINITY)}`;
  const rateText = Number.isFinite(rate) ? `${rate.toFixed(1)}/s` : '-/s';
  return (
    `${bar.label} [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ` +
    `${bar.value}/${bar.total} ${Math.floor(fraction * 100)}% | ${rateText} | ${timing}${bar.fields}`
  );
}

export class TerminalBars {
  private readonly active: BarState[] = [];
  private drawnRows = 0;
  private lastDrawMs = 0;

  constructor(
    private readonly out: BarOutput,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds a bar at the bottom. */
  add(label: string, total: number): BarState {
    const bar: BarState = { label, value: 0, total, startedMs: this.now(), fields: '' };
    this.active.push(bar);
    this.redraw([]);
    return bar;
  }

  /** Redraws after a change to a bar, at most every 100 ms. */
  changed(): void {
    if (this.now() - this.lastDrawMs >= REDRAW_MS) this.redraw([]);
  }

  /** Prints the bar's final line above the others and removes it. */
  finish(bar: BarState): void {
    const at = this.active.indexOf(bar);
    if (at < 0) return;
    this.active.splice(at, 1);
    this.redraw([renderBar(bar, this.now())]);
  }

  /** Prints a line above the bars. */
  log(message: string): void {
    this.redraw(message.split('\n'));
  }

  /** Erases the bars (finished ones were printed already); later output starts clean. */
  close(): void {
    this.active.length = 0;
    this.redraw([]);
  }

  private redraw(lines: string[]): void {
    const width = Math.max(20, this.out.columns() - 1);
    const cut = (line: string) => (line.length > width ? line.slice(0, width) : line);
    // Up to the first row of the bars, then clear everything below the cursor.
    let text = this.drawnRows > 0 ? `\r\x1b[${this.drawnRows}A\x1b[J` : '';
    for (const line of lines) text += `${line}\n`; // log lines may wrap: they scroll away
    const now = this.now();
    for (const bar of this.active) text += `${cut(renderBar(bar, now))}\n`;
    this.drawnRows = this.active.length;
    this.lastDrawMs = now;
    if (text) this.out.write(text);
  }
}
