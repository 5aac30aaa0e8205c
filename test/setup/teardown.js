// Jest global teardown: one list, at the end, of the tests skipped for a missing system package
// (test/helpers/prerequisites.ts) and the command that installs each.
const { existsSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

module.exports = function teardown() {
  const file = process.env.SIKED_TEST_SKIP_LOG;
  if (!file || !existsSync(file)) return;
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
  rmSync(path.dirname(file), { recursive: true, force: true });
  if (records.length === 0) return;
  const byPackage = new Map();
  for (const record of records)
    byPackage.set(record.install, [...(byPackage.get(record.install) ?? []), record]);
  const lines = [...byPackage].map(
    ([install, skipped]) =>
      `  skipped: ${install} (${skipped.length}: ${skipped.map((s) => s.test).join('; ')})`,
  );
  process.stdout.write(
    `\nTests skipped for missing system packages (CI=true runs them):\n${lines.join('\n')}\n`,
  );
};
