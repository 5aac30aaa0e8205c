import type { Command } from 'commander';
import { buildInfo } from '@siked/native-cuda';
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
      const cuda = info.cuda.compiled
        ? `compiled, ${info.cuda.deviceCount} device(s)${info.cuda.error ? ` (${info.cuda.error})` : ''}`
        : 'not compiled';
      context.print(`engine: N-API ${info.napiVersion}, CPU SIMD ${info.simd}\ncuda: ${cuda}`);
    },
  });
}
