import { createProgram, main } from '@siked/cli';

describe('siked program', () => {
  it('lists every command in --help', () => {
    const help = createProgram().helpInformation();
    expect(help).toContain('Usage: siked');
    for (const name of [
      'info',
      'demo',
      'experiment',
      'distill',
      'teach',
      'eval',
      'generate',
      'logprobs',
      'verify',
      'data',
      'report',
      'bench',
    ]) {
      expect(help).toMatch(new RegExp(`\\n  ${name}\\b`));
    }
  });

  it('gives every leaf command --json, --quiet and (bar bench engine) --config FILE', () => {
    const program = createProgram();
    const leaves = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands : [c]));
    expect(leaves).toHaveLength(16); // data has inspect, convert and import-teacher
    for (const command of leaves) {
      const flags = command.options.map((o) => o.flags);
      expect(flags).toEqual(expect.arrayContaining(['--json', '--quiet']));
      expect(flags.some((f) => f.startsWith('--config'))).toBe(true);
    }
  });

  describe('main exit codes', () => {
    let stderr: jest.SpyInstance;
    beforeEach(() => {
      stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    });
    afterEach(() => stderr.mockRestore());

    it('is 2 for a missing argument, an unknown option or a bad option value', async () => {
      expect(await main(['node', 'siked', 'report'])).toBe(2);
      expect(await main(['node', 'siked', 'report', 'x', '--no-such-flag'])).toBe(2);
      expect(await main(['node', 'siked', 'report', 'x', '--scale', 'big'])).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('option --scale');
    });

    it('is 2 for input that does not exist, naming it', async () => {
      expect(
        await main(['node', 'siked', 'verify', '--input', '/nonexistent/solutions.jsonl']),
      ).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(
        '/nonexistent/solutions.jsonl',
      );
    });
  });
});
