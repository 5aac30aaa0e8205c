#!/usr/bin/env node
// Thin launcher so the bin exists (and is executable) before the TypeScript build has run.
'use strict';
try {
  require('../dist/main.js')
    .main(process.argv)
    .then((code) => {
      process.exitCode = code;
    });
} catch (error) {
  if (
    error &&
    error.code === 'MODULE_NOT_FOUND' &&
    /dist[\\/]main\.js/.test(String(error.message))
  ) {
    console.error(
      'siked: the CLI has not been built yet. Run `npm ci` (or `npm run build`) at the repository root.',
    );
    process.exit(1);
  }
  throw error;
}
