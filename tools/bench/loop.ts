// Where a whole SIKeD run spends its time (synthetic world, CPU engine, Python sandbox): a thin
// wrapper over benchmarkLoop, which `siked bench loop` also calls.
// Run: node -r ./packages/core/test/loop/fixtures/register-ts.js tools/bench/loop.ts [tiny|demo] [threads]
import { benchmarkLoop, type SyntheticPresetName } from '../../packages/core/src';

const preset = (process.argv[2] ?? 'tiny') as SyntheticPresetName;
const threads = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
benchmarkLoop({ preset, threads })
  .then((result) => console.log(JSON.stringify(result, null, 2)))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
