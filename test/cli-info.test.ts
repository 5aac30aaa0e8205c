import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const siked = path.resolve(__dirname, '../packages/cli/bin/siked.js');

describe('siked (built CLI)', () => {
  it('prints its commands with --help', () => {
    const out = execFileSync(process.execPath, [siked, '--help'], { encoding: 'utf8' });
    expect(out).toContain('Usage: siked');
    expect(out).toContain('info');
  });

  it('reports the engine build as JSON', () => {
    const out = execFileSync(process.execPath, [siked, 'info', '--json'], { encoding: 'utf8' });
    const info = JSON.parse(out);
    expect(info.napiVersion).toBe(8);
    expect(typeof info.cuda.compiled).toBe('boolean');
  });

  it('exits 2 on an unknown command', () => {
    const result = spawnSync(process.execPath, [siked, 'no-such-command'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command');
  });
});
