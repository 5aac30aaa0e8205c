import { createProgram } from '@siked/cli';

describe('siked program', () => {
  it('lists its commands in --help', () => {
    const help = createProgram().helpInformation();
    expect(help).toContain('Usage: siked');
    expect(help).toContain('info');
  });
});
