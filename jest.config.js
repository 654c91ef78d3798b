// Three projects: unit (pure core, adapters, handlers; no network), infra (CDK Template
// assertions and cdk-nag), e2e (the real emulators of the local stack).

const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] };
const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The emulators' and Stryker's own packages are not ours to scan.
  modulePathIgnorePatterns: ['<rootDir>/local/emulators/', '<rootDir>/test/mutation/', '<rootDir>/.bench/'],
};

const unit = { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    unit,
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
      testTimeout: 120000,
    },
  ],
};

// The unit project alone, for the mutation run (test/mutation/stryker.config.mjs).
Object.defineProperty(module.exports, 'unitProject', { value: unit, enumerable: false });
