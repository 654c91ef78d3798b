// Four projects: unit (pure core, adapters, handlers; no network), infra (CDK Template
// assertions and cdk-nag), package (the packed library in a team's app; the npm registry on
// a first run), e2e (the real emulators of the local stack).

const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] };
const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The emulators' and Stryker's own packages are not ours to scan.
  modulePathIgnorePatterns: ['<rootDir>/local/emulators/', '<rootDir>/test/mutation/', '<rootDir>/.bench/', '<rootDir>/dist/', '<rootDir>/examples/'],
};

const unit = { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] };

/**
 * `npm run test:e2e:bundles` (E2E_LAMBDA_CODE=bundles): the same e2e setup, its stack running the
 * deployed bundles of a fresh cloud assembly, for the tests whose outcome depends on the handlers'
 * code: every receiver answer, the worker's rules, its failures to the DLQ, the template's
 * resources. Left to the sources run: the 500-delivery burst (load is the bench's business), the
 * ops CLIs (they run from sources either way) and npm start's own lifecycle (its own stacks).
 */
const E2E_BUNDLES_SUBSET = ['lambda-code', 'pipeline', 'rejections', 'idempotency-and-order', 'poison', 'expired-delivery-id', 'resources-match-template'];
const e2eTestMatch =
  process.env.E2E_LAMBDA_CODE === 'bundles'
    ? E2E_BUNDLES_SUBSET.map((name) => `<rootDir>/test/e2e/${name}.test.ts`)
    : ['<rootDir>/test/e2e/**/*.test.ts'];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    unit,
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    // The packed library installed into a team's app (examples/team-app) with the lowest and the latest peers.
    { ...common, displayName: 'package', testMatch: ['<rootDir>/test/package/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: e2eTestMatch,
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
      testTimeout: 120000,
    },
  ],
};

// The unit project alone, for the mutation run (test/mutation/stryker.config.mjs).
Object.defineProperty(module.exports, 'unitProject', { value: unit, enumerable: false });
