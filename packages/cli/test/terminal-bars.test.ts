// Bars that log lines never cut through: what a terminal shows after the renderer's output,
// through a small VT100 screen model and through a real pseudo-terminal (`script`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { TerminalBars } from '../src/terminal-bars';

/** The rows a terminal shows after `text` (\r, \n, ESC[nA, ESC[J; other escapes are dropped). */
function screen(text: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\x1b') {
      const match = /^\[(\d*)([A-Za-z])/.exec(text.slice(i + 1)); // after ESC
      if (!match) continue;
      i += match[0].length;
      if (match[2] === 'A') row = Math.max(0, row - Number(match[1] || 1));
      if (match[2] === 'J') {
        rows[row] = rows[row].slice(0, column);
        rows.length = row + 1;
      }
      continue;
    }
    if (ch === '\r') column = 0;
    else if (ch === '\n') {
      row++;
      column = 0;
      while (rows.length <= row) rows.push('');
    } else {
      const line = rows[row].padEnd(column);
      rows[row] = line.slice(0, column) + ch + line.slice(column + 1);
      column++;
    }
  }
  return rows.filter((line, i) => line !== '' || i < rows.length - 1);
}

function renderer(columns = 100) {
  let output = '';
  let clock = 0;
  const bars = new TerminalBars(
    { write: (text) => void (output += text), columns: () => columns },
    () => clock,
  );
  return {
    bars,
    advance: (ms: number) => void (clock += ms),
    rows: () => screen(output),
  };
}

describe('TerminalBars', () => {
  it('prints log lines above the active bars, never through them', () => {
    const { bars, advance, rows } = renderer();
    const teacher = bars.add('teacher', 10);
    const train = bars.add('train', 4);
    for (let i = 0; i < 5; i++) {
      teacher.value++;
      advance(150);
      bars.changed();
    }
    bars.log('teacher: retry 1/3 in 0.7 s after HTTP 503');
    train.value = 2;
    advance(150);
    bars.changed();
    expect(rows()).toEqual([
      'teacher: retry 1/3 in 0.7 s after HTTP 503',
      expect.stringMatching(/^teacher \[█+░+\] 5\/10 50% \| [\d.]+\/s \| ETA \d+s$/),
      expect.stringMatching(/^train \[█+░+\] 2\/4 50% /),
    ]);
  });

  it('keeps each finished bar once, as a line above, and erases the rest on close', () => {
    const { bars, advance, rows } = renderer();
    const first = bars.add('sample', 3);
    const second = bars.add('verify', 2);
    first.value = 3;
    advance(2000);
    bars.finish(first);
    bars.log('note between');
    second.value = 1;
    bars.changed();
    bars.close();
    expect(rows()).toEqual([
      expect.stringMatching(/^sample \[█{30}\] 3\/3 100% \| 1\.5\/s \| in 2s$/),
      'note between',
    ]);
  });

  it('cuts bar lines to the terminal width, so a redraw goes back up the right number of rows', () => {
    const { bars, rows } = renderer(40);
    const bar = bars.add('a-very-long-label-for-a-narrow-terminal', 5);
    bar.fields = ' loss=2.3456 tok/s=12345';
    bars.log('a log line longer than the forty columns of this terminal, kept whole');
    bars.close();
    expect(rows()).toEqual([
      'a log line longer than the forty columns of this terminal, kept whole',
    ]);
  });
});

// A real pseudo-terminal: the built CLI's progress in bar mode (stdout and stderr both a tty).
const scriptCommand = '/usr/bin/script';
const built = path.resolve(__dirname, '../dist/progress.js');
const describePty = existsSync(scriptCommand) && existsSync(built) ? describe : describe.skip;

describePty('progress bars on a pseudo-terminal', () => {
  it('shows logs above bars and each finished bar once', () => {
    const program = `
      const { createProgress } = require(${JSON.stringify(built)});
      const p = createProgress(process.stdout.isTTY && process.stderr.isTTY ? 'bar' : 'lines');
      const a = p.task('teacher', 4);
      a.tick(); a.tick(); p.log('teacher: retry 1/3 after HTTP 503'); a.tick(); a.tick(); a.done();
      const b = p.task('train', 2); b.tick(1, { loss: '2.31' }); p.log('during train'); b.done();
      p.close();`;
    const result = spawnSync(
      scriptCommand,
      [
        '-qec',
        `${process.execPath} -e ${JSON.stringify(program.replace(/\n\s*/g, ' '))}`,
        '/dev/null',
      ],
      { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } },
    );
    expect(result.status).toBe(0);
    const rows = screen(result.stdout.replace(/\r\n/g, '\n'));
    expect(rows).toEqual([
      'teacher: retry 1/3 after HTTP 503',
      expect.stringMatching(/^teacher \[█{30}\] 4\/4 100% /),
      'during train',
      expect.stringMatching(/^train \[█{30}\] 2\/2 100% .* loss=2\.31$/),
    ]);
  });
});
