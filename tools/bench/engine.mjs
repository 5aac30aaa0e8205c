#!/usr/bin/env node
// Engine benchmark: a thin wrapper over benchmarkEngine() of @siked/native-cuda (the CLI's
// `siked bench engine` calls the same function). Needs the built package (dist/ + addon).
//   node tools/bench/engine.mjs --config tiny|small|smollm135m-shape [--quick] [--no-baseline] [--threads N]
// Prints progress on stderr and one JSON object on stdout.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'tiny' },
    quick: { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
});
let engine;
try {
  engine = require('../../packages/native-cuda/dist/index.js');
} catch (error) {
  console.error(
    `cannot load packages/native-cuda/dist (build it: npm run build -w @siked/native-cuda): ${error.message}`,
  );
  process.exit(2);
}
const result = await engine.benchmarkEngine({
  config: values.config,
  quick: values.quick,
  baseline: !values['no-baseline'],
  threads: values.threads === undefined ? undefined : Number(values.threads),
  log: (line) => console.error(line),
});
process.stdout.write(JSON.stringify(result) + '\n');
