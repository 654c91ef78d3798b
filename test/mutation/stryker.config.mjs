// @ts-check
/**
 * `npm run test:mutation`: StrykerJS over the pure core (lambda/core), judged by
 * the unit tests alone (no network, seconds per run), with the TypeScript
 * checker so mutants that do not compile are not counted. The score that
 * matters is the killed share without time-outs: killed / (killed + survived +
 * no coverage), per file (docs/testing.md).
 *
 * Survivors left on purpose carry a `// Stryker disable next-line <mutator>: <reason>`
 * beside the code: equivalent mutants (same behaviour) and log-text-only ones.
 */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['lambda/core/**/*.ts', '!lambda/core/**/*.d.ts'],
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'test/mutation/jest.config.cjs', enableFindRelatedTests: true },
  checkers: ['typescript'],
  tsconfigFile: 'test/mutation/tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  ignorePatterns: ['node_modules', 'local/emulators', 'test/mutation/node_modules', 'cdk.out', '.local', 'reports', '.bench'],
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  concurrency: 2,
  timeoutMS: 20000,
  timeoutFactor: 2,
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
