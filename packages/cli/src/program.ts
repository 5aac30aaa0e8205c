import { Command } from 'commander';
import { registerBench } from './commands/bench';
import { registerData } from './commands/data';
import { registerDemo } from './commands/demo';
import { registerDistill } from './commands/distill';
import { registerEval } from './commands/eval';
import { registerExperiment } from './commands/experiment';
import { registerGenerate } from './commands/generate';
import { registerLogprobs } from './commands/logprobs';
import { registerInfo } from './commands/info';
import { registerReport } from './commands/report';
import { registerTeach } from './commands/teach';
import { registerVerify } from './commands/verify';

/** Builds the `siked` command tree. Each command lives in its own module under commands/. */
export function createProgram(): Command {
  const program = new Command('siked')
    .description('SIKeD: self-guided iterative knowledge distillation for math reasoning')
    .version(require('../package.json').version as string)
    .showHelpAfterError()
    .exitOverride();
  registerInfo(program);
  registerDemo(program);
  registerExperiment(program);
  registerDistill(program);
  registerData(program);
  registerTeach(program);
  registerVerify(program);
  registerEval(program);
  registerGenerate(program);
  registerLogprobs(program);
  registerReport(program);
  registerBench(program);
  return program;
}
