import type { Command } from 'commander';
import { type BuildInfo, buildInfo } from '@siked/native-cuda';
import { defineCommand } from '../command';

/** `siked info`: what this build of the engine contains. */
export function registerInfo(program: Command): void {
  defineCommand(program, {
    name: 'info',
    description: 'show what this build of the engine contains (SIMD level, CUDA backend, devices)',
    options: {},
    examples: ['siked info --json'],
    async run(_options, _args, context) {
      const info = buildInfo();
      if (context.json) {
        context.printJson(info);
        return;
      }
      context.print(
        [
          `engine: N-API ${info.napiVersion}, CPU SIMD ${info.simd}, bf16 instructions ${info.bf16}; --precision bf16 runs on ${info.bf16Matmul}${info.bf16Matmul === info.bf16 ? '' : ' (fp32)'}`,
          `gemm: ${info.gemm}`,
          `cuda: ${describeCuda(info.cuda)}`,
          `devices usable: cpu${info.cuda.deviceCount > 0 ? ', cuda (--device cuda)' : ''}`,
        ].join('\n'),
      );
    },
  });
}

/** One line on the CUDA backend: compiled or not, its devices, or why none is usable. */
function describeCuda(cuda: BuildInfo['cuda']): string {
  if (!cuda.compiled) return `not compiled (${cuda.error ?? 'no nvcc at build time'})`;
  if (cuda.deviceCount === 0) return `compiled, no usable device (${cuda.error ?? 'none found'})`;
  const devices = cuda.devices.map((d) => `${d.name} (compute ${d.computeCapability})`);
  return `compiled, ${cuda.deviceCount} device(s): ${devices.join(', ')}`;
}
