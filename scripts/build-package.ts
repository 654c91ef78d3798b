/**
 * `npm pack` (and `npm publish`) run this as `prepack`: the construct library
 * as it ships, in `dist/`:
 *
 * - `dist/lib/`, `dist/lambda/`: lib/index.ts and what it imports (the contract,
 *   the open-jobs helper, the provider URL check), compiled to CommonJS with
 *   declarations (tsconfig.build.json);
 * - `dist/bundles/<handler>/index.mjs`: every Lambda handler bundled with exactly
 *   lib/bundling.ts's options, the bundles the tests load and invoke, which the
 *   installed constructs deploy as they are (lib/function-code.ts).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_FILE_NAME, bundleBuildOptions } from '../lib/bundling';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const HANDLERS = path.join(ROOT, 'lambda', 'handlers');

async function main(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  const handlers = readdirSync(HANDLERS).filter((name) => name.endsWith('.ts'));
  await Promise.all(
    handlers.map((file) => build(bundleBuildOptions(path.join(HANDLERS, file), path.join(DIST, 'bundles', path.basename(file, '.ts'), BUNDLE_FILE_NAME)))),
  );
  console.log(`build-package: dist/lib and ${handlers.length} bundles (${handlers.map((file) => path.basename(file, '.ts')).join(', ')})`);
}

main().catch((error: unknown) => {
  console.error(`build-package: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
