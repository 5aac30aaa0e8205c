// Jest global setup: a fresh file for the tests skipped for a missing system package (workers
// inherit the variable and append to it; test/setup/teardown.js prints the list).
const { mkdtempSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'siked-test-skips-'));
  process.env.SIKED_TEST_SKIP_LOG = path.join(dir, 'skips.jsonl');
};
