import { buildInfo } from '@siked/native-cuda';

describe('native addon', () => {
  it('loads and reports its build', () => {
    const info = buildInfo();
    expect(info.napiVersion).toBe(8);
    expect(['scalar', 'avx2', 'avx512']).toContain(info.simd);
    expect(['amx', 'avx512bf16', 'none']).toContain(info.bf16);
    expect(info.gemm).toMatch(
      /^(avx512|avx2|scalar) kernels \d+x\d+, KC 256 \(bf16 512\), NB \d+, MB \d+; caches L1d \d+ KiB/,
    );
    expect(typeof info.cuda.compiled).toBe('boolean');
    if (!info.cuda.compiled || info.cuda.deviceCount === 0) {
      expect(info.cuda.deviceCount).toBe(0);
      expect(typeof info.cuda.error).toBe('string');
    }
  });
});
