/**
 * The Lambda bundles' esbuild settings, in a module free of aws-cdk-lib so the
 * benchmarks, the tests and the package build make exactly the bundles CDK deploys.
 */
import * as path from 'node:path';
import type { BuildOptions } from 'esbuild';

/** The file each bundle is written to; its `handler` export is the function's handler. */
export const BUNDLE_FILE_NAME = 'index.mjs';

/** Must follow `LAMBDA_RUNTIME` (lib/secure-defaults.ts): esbuild may then emit syntax the runtime supports natively. */
export const ESBUILD_TARGET = 'node24';

/** Some CommonJS dependencies call `require` at run time; ESM has none. */
export const BUNDLE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Prefer the ESM builds of the SDK and Powertools: they tree-shake. */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

/**
 * Lambda hands a function its credentials in environment variables, so the
 * SDK's default chain (SSO, INI files, web identity, IMDS and the nested STS/SSO
 * clients they carry) is dead weight in a bundle: about 110 kB of the receiver's
 * minified code. It is aliased to the environment provider.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.join(__dirname, '..', 'lambda', 'adapters', 'lambda-credentials.ts'),
};

/**
 * The esbuild options of every Lambda bundle: CDK's local bundling at synth
 * (lib/function-code.ts), the package's prebuilt bundles (scripts/build-package.ts),
 * the benchmarks and the bundle tests all build with exactly these.
 */
export function bundleBuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    minify: true,
    sourcemap: false,
    banner: { js: BUNDLE_BANNER },
    mainFields: BUNDLE_MAIN_FIELDS,
    alias: { ...BUNDLE_ALIASES },
    external: [],
    logLevel: 'silent',
  };
}
