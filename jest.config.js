// One jest run covers every package (projects) plus the cross-package tests in test/.
// TypeScript is transformed by @swc/jest (fastest measured here); type checking is `tsc -b`.
const packages = ['native-cuda', 'core', 'eval', 'cli'];

const swc = [
  '@swc/jest',
  { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
];

const moduleNameMapper = Object.fromEntries(
  packages.map((name) => [`^@siked/${name}$`, `<rootDir>/packages/${name}/src/index.ts`]),
);

function project(displayName, roots) {
  return {
    displayName,
    rootDir: __dirname,
    roots,
    testEnvironment: 'node',
    transform: { '^.+\\.tsx?$': swc },
    moduleNameMapper,
    testMatch: ['**/*.test.ts'],
  };
}

module.exports = {
  projects: [
    ...packages.map((name) => project(name, [`<rootDir>/packages/${name}/test`])),
    project('e2e', ['<rootDir>/test']),
  ],
  testTimeout: 120000,
  // Tests skipped for a missing system package (test/helpers/prerequisites.ts) are listed at the end.
  globalSetup: '<rootDir>/test/setup/setup.js',
  globalTeardown: '<rootDir>/test/setup/teardown.js',
};
