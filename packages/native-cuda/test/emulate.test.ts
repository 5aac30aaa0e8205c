// The CPU emulation of the CUDA backend (emulate/, SIKED_CUDA=EMULATE): the launch rewriter,
// and the emulation addon's report of itself once built (`npm run build:emulate`). The runtime
// itself (fibers, shuffles, deadlock reports, the cuBLAS stand-in) and every kernel are checked
// by tools/cuda-lab/emulate-parity.sh.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emulatedAddonPath, loadBinding } from '../src/addon';

const rewriter = path.resolve(__dirname, '../emulate/rewrite.mjs');

function rewrite(source: string): { status: number | null; output: string; stderr: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'siked-rewrite-'));
  try {
    const input = path.join(dir, 'kernels.cu');
    const output = path.join(dir, 'kernels.cpp');
    writeFileSync(input, source);
    const run = spawnSync(process.execPath, [rewriter, input, output], { encoding: 'utf8' });
    const text = run.status === 0 ? readFileSync(output, 'utf8') : '';
    return { status: run.status, output: text, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('emulate/rewrite.mjs', () => {
  it('turns launches into calls, keeping every line where it was', () => {
    const source = [
      'void host(int n, cudaStream_t s) {',
      '  kernel<<<n, 256>>>(x, y);',
      '  ns::tiled<64, float><<<dim3(blocks_for(n, 64), 2),',
      '                        dim3(32, 8), 0, s>>>(static_cast<float*>(p), n > 2 ? (n >> 1) : 1,',
      '                                             make(a, b));',
      '  empty<<<1, 1>>>();',
      '  after();',
      '}',
    ].join('\n');
    const { status, output } = rewrite(source);
    expect(status).toBe(0);
    const lines = output.split('\n').slice(1);
    expect(output.split('\n')[0]).toBe('#include <cuda_runtime.h>'); // as nvcc does for a .cu file
    expect(lines[0]).toMatch(/^#line 1 ".*kernels\.cu"$/);
    expect(lines.length).toBe(source.split('\n').length + 1);
    expect(lines[2]).toBe(
      '  ::siked_emu::launch(::siked_emu::LaunchConfig(n, 256), "kernel", kernel, x, y);',
    );
    expect(lines.slice(3, 6).join('\n')).toBe(
      [
        '  ::siked_emu::launch(::siked_emu::LaunchConfig(dim3(blocks_for(n, 64), 2),',
        '                        dim3(32, 8), 0, s), "ns::tiled<64, float>", ns::tiled<64, float>, static_cast<float*>(p), n > 2 ? (n >> 1) : 1,',
        '                                             make(a, b));',
      ].join('\n'),
    );
    expect(lines[6]).toBe(
      '  ::siked_emu::launch(::siked_emu::LaunchConfig(1, 1), "empty", empty);',
    );
    expect(lines[7]).toBe('  after();');
  });

  it('leaves comments and string literals alone', () => {
    const source = '// k<<<1, 1>>>(x);\nconst char* s = "k<<<1, 1>>>(x)"; /* k<<<2, 2>>>(y); */\n';
    const { status, output } = rewrite(source);
    expect(status).toBe(0);
    expect(output.split('\n').slice(2).join('\n')).toBe(source);
  });

  it('maps #pragma unroll to GCC and extern __shared__ to the block memory', () => {
    const source = [
      '#pragma unroll',
      '  #pragma unroll 4',
      '#pragma unroll kTile',
      'extern __shared__ __align__(16) unsigned char cells[];',
    ].join('\n');
    const { output } = rewrite(source);
    expect(output.split('\n').slice(2)).toEqual([
      '#pragma GCC unroll 16',
      '  #pragma GCC unroll 4',
      '#pragma GCC unroll 16',
      'unsigned char* cells = static_cast<unsigned char*>(::siked_emu::dynamic_shared());',
    ]);
  });

  it('names the line of a launch it cannot read', () => {
    const { status, stderr } = rewrite('void f() {\n  (*table[0])<<<1, 1>>>(x);\n}\n');
    expect(status).toBe(1);
    expect(stderr).toMatch(/kernels\.cu: no kernel name before <<< at line 2/);
  });
});

const built = existsSync(emulatedAddonPath);
if (!built && process.env.CI !== 'true') {
  console.warn(
    `emulation addon tests skipped: ${emulatedAddonPath} not built ` +
      '(build it with: npm run build:emulate -w @siked/native-cuda)',
  );
}

(built || process.env.CI === 'true' ? describe : describe.skip)('the emulation addon', () => {
  it('loads with SIKED_ADDON=emulate and reports one emulated CUDA device', () => {
    const saved = { path: process.env.SIKED_ADDON_PATH, variant: process.env.SIKED_ADDON };
    delete process.env.SIKED_ADDON_PATH;
    process.env.SIKED_ADDON = 'emulate';
    try {
      expect(loadBinding().buildInfo().cuda).toEqual({
        compiled: true,
        deviceCount: 1,
        error: null,
        devices: [
          { name: expect.stringMatching(/^siked CPU emulator \(/), computeCapability: '9.0' },
        ],
      });
    } finally {
      if (saved.path === undefined) delete process.env.SIKED_ADDON_PATH;
      else process.env.SIKED_ADDON_PATH = saved.path;
      if (saved.variant === undefined) delete process.env.SIKED_ADDON;
      else process.env.SIKED_ADDON = saved.variant;
    }
  });
});
