#!/usr/bin/env node
// Sandbox benchmark: programs/s through the PythonSandbox pool vs one python3 process per program.
// Usage: node tools/bench/sandbox.mjs [programs=10000] [baselinePrograms=200] [--json]
// Needs the built package: npx tsc -b packages/core
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let core;
try {
  core = require('../../packages/core/dist');
} catch (error) {
  console.error(
    `Cannot load packages/core/dist (${error.message}); build it: npx tsc -b packages/core`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const [programs = 10_000, baselinePrograms = 200] = args
  .filter((arg) => arg !== '--json')
  .map(Number);
const result = await core.benchmarkSandbox({ programs, baselinePrograms });
console.log(json ? JSON.stringify(result, null, 2) : core.formatSandboxBenchmark(result));
