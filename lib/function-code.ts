/**
 * Where each Lambda function's code comes from. One bundle per handler, built
 * with exactly `bundleBuildOptions` (lib/bundling.ts), the options the bundle
 * tests load and invoke:
 *
 * - in a checkout (the handler's TypeScript is there), esbuild builds it at
 *   synth time, in-process, as CDK's local bundling (no Docker, offline);
 * - in an installed package (no sources, no esbuild), the bundle built when the
 *   package was packed (`npm pack` runs `prepack`: scripts/build-package.ts) is
 *   used as it is, so a consumer's app needs neither esbuild nor Docker and
 *   deploys the very bytes this project tested, whatever `@aws-sdk` versions its
 *   own lockfile holds. docs/architecture.md weighs this against NodejsFunction.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, type BundlingOptions, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BUNDLE_FILE_NAME, bundleBuildOptions } from './bundling';

/** The repository root in a checkout; the package's `dist/` once installed. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');
/** Prebuilt bundles of an installed package: `bundles/<handler>/index.mjs` under PACKAGE_ROOT. */
export const PREBUILT_BUNDLES_DIR = path.join(PACKAGE_ROOT, 'bundles');
/** Every bundle exports `handler` from `index.mjs`. */
export const FUNCTION_HANDLER = `${path.basename(BUNDLE_FILE_NAME, '.mjs')}.handler`;

export class FunctionCodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FunctionCodeError';
  }
}

/**
 * CDK's local bundling with esbuild's JS API. The entry is an own field so that
 * CDK's asset cache key (a JSON of the bundling options) differs per function.
 */
class EsbuildLocalBundling implements ILocalBundling {
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    let esbuild: typeof import('esbuild');
    try {
      // Loaded only when a checkout builds from sources (and synchronously, as CDK's tryBundle is):
      // an installed package must not need esbuild at all.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      esbuild = require('esbuild') as typeof import('esbuild');
    } catch (error) {
      throw new FunctionCodeError(`esbuild is needed to bundle ${this.entry} from its sources (npm ci installs it): ${(error as Error).message}`);
    }
    esbuild.buildSync(bundleBuildOptions(this.entry, path.join(outputDir, BUNDLE_FILE_NAME)));
    // Never false: CDK would then try Docker, which this project does not use.
    return true;
  }
}

function handlerName(entry: string): string {
  return path.basename(entry, path.extname(entry));
}

/** The code of the function whose handler is `entry` (relative to the package root, e.g. `lambda/handlers/receiver.ts`). */
export function functionCode(entry: string): lambda.Code {
  const source = path.join(PACKAGE_ROOT, entry);
  if (existsSync(source)) {
    const bundling: BundlingOptions = {
      local: new EsbuildLocalBundling(source),
      // Required by the type, never run: the local bundling above always bundles or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/lambda/nodejs:24'),
    };
    // OUTPUT: the asset hash is the bundle's own, so an unchanged bundle is an unchanged deploy.
    return lambda.Code.fromAsset(path.dirname(source), { assetHashType: AssetHashType.OUTPUT, bundling });
  }
  const prebuilt = path.join(PREBUILT_BUNDLES_DIR, handlerName(entry));
  if (existsSync(path.join(prebuilt, BUNDLE_FILE_NAME))) return lambda.Code.fromAsset(prebuilt);
  throw new FunctionCodeError(`no code for ${entry}: neither its source (${source}) nor a prebuilt bundle (${prebuilt}) is there`);
}
