import { createProgress, formatProgressLine } from '../src/progress';

describe('formatProgressLine', () => {
  it('shows count, percent, rate and ETA', () => {
    // 30 of 120 in 10 s: 3/s, 90 left -> 30 s.
    expect(formatProgressLine('verify', 30, 120, 10, { loss: '1.50' })).toBe(
      'verify: 30/120 (25%) 3.0/s ETA 30s loss=1.50',
    );
  });

  it('shows the elapsed time when done, and minutes past 60 s', () => {
    expect(formatProgressLine('train', 50, 50, 125)).toBe('train: 50/50 (100%) 0.4/s in 2m05s');
  });

  it('does not invent a rate for a task reported only at its end', () => {
    expect(formatProgressLine('teacher', 8, 8, 0)).toBe('teacher: 8/8 (100%) -/s in 0s');
  });
});

describe('createProgress', () => {
  it('prints plain lines off a terminal and the final line once', () => {
    const lines: string[] = [];
    const progress = createProgress('lines', { intervalMs: 0, write: (line) => lines.push(line) });
    const task = progress.task('sample', 2);
    task.tick();
    task.tick();
    task.done();
    task.done();
    progress.log('note');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^sample: 1\/2 \(50%\)/);
    expect(lines[1]).toMatch(/^sample: 2\/2 \(100%\) .* in \d+s$/);
    expect(lines[2]).toBe('note');
  });

  it('prints nothing when quiet', () => {
    const lines: string[] = [];
    const progress = createProgress('quiet', { write: (line) => lines.push(line) });
    progress.task('x', 1).tick();
    progress.log('hidden');
    expect(lines).toEqual([]);
  });
});
