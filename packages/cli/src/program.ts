import { Command } from 'commander';
import { buildInfo } from '@siked/native-cuda';

/** Builds the `siked` command tree. Each command lives in its own module under commands/. */
export function createProgram(): Command {
  const program = new Command('siked')
    .description('SIKeD: self-guided iterative knowledge distillation for math reasoning')
    .version(require('../package.json').version as string)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('info')
    .description('show what this build of the engine contains (SIMD level, CUDA backend, devices)')
    .option('--json', 'print one JSON object')
    .action((options: { json?: boolean }) => {
      const info = buildInfo();
      if (options.json) {
        process.stdout.write(JSON.stringify(info) + '\n');
        return;
      }
      const cuda = info.cuda.compiled
        ? `compiled, ${info.cuda.deviceCount} device(s)${info.cuda.error ? ` (${info.cuda.error})` : ''}`
        : 'not compiled';
      process.stdout.write(
        `engine: N-API ${info.napiVersion}, CPU SIMD ${info.simd}\ncuda: ${cuda}\n`,
      );
    });

  return program;
}
