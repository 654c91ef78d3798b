#!/usr/bin/env node
/**
 * `npm run test:mutation [-- <stryker options>]`: StrykerJS over lambda/core,
 * judged by the unit tests (test/mutation/stryker.config.mjs). Stryker 10 needs
 * Node >= 22, so it lives in test/mutation's own package, installed here on first
 * use with this process's Node (the project's Node 24) rather than by `npm ci`.
 *
 * After the run it prints, and writes to reports/mutation/summary.md, the score
 * this project holds itself to: per file, killed / (killed + survived + no
 * coverage + timed out). A time-out is not counted as a kill (on a loaded 2-core
 * machine it says more about the machine than about the tests); compile errors
 * are not mutants the tests could see.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolDir = join(root, 'test', 'mutation');
const report = join(root, 'reports', 'mutation', 'mutation.json');
const GOAL = 90;

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const npmCli = process.env.npm_execpath;
const npm = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
if (!existsSync(join(toolDir, 'node_modules', '@stryker-mutator', 'core'))) {
  console.log('test:mutation: installing StrykerJS into test/mutation (first run only)');
  run(npm[0], [...npm[1], 'ci', '--no-audit', '--no-fund', '--loglevel=warn'], toolDir);
}

const started = Date.now();
const stryker = join(toolDir, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
run(process.execPath, [stryker, 'run', relative(root, join(toolDir, 'stryker.config.mjs')), ...process.argv.slice(2)], root);
const minutes = ((Date.now() - started) / 60000).toFixed(1);

const { files } = JSON.parse(readFileSync(report, 'utf8'));
const rows = Object.entries(files)
  .map(([file, { mutants }]) => {
    const count = (status) => mutants.filter((mutant) => mutant.status === status).length;
    const killed = count('Killed');
    const counted = killed + count('Survived') + count('NoCoverage') + count('Timeout');
    return { file, killed, survived: count('Survived'), noCoverage: count('NoCoverage'), timeout: count('Timeout'), ignored: count('Ignored'), counted };
  })
  .filter((row) => row.counted > 0)
  .sort((a, b) => a.file.localeCompare(b.file));
const score = (row) => (row.counted === 0 ? 100 : (100 * row.killed) / row.counted);
const lines = [
  `| file | killed share | killed | survived | no coverage | timed out | disabled with a reason |`,
  `|---|---|---|---|---|---|---|`,
  ...rows.map((row) => `| ${row.file} | ${score(row).toFixed(1)} % | ${row.killed} | ${row.survived} | ${row.noCoverage} | ${row.timeout} | ${row.ignored} |`),
];
if (rows.length === 0) {
  console.error('test:mutation: no mutant was tested (check the --mutate patterns): nothing to judge');
  process.exit(1);
}
const below = rows.filter((row) => score(row) < GOAL);
const summary = [`Mutation run of ${new Date().toISOString()} on Node ${process.version}, ${minutes} min.`, '', ...lines, ''].join('\n');
mkdirSync(dirname(report), { recursive: true });
writeFileSync(join(dirname(report), 'summary.md'), summary);
console.log(`\n${summary}`);
console.log(below.length === 0 ? `test:mutation: every file at or above ${GOAL} %` : `test:mutation: below ${GOAL} %: ${below.map((row) => row.file).join(', ')}`);
process.exit(below.length === 0 ? 0 : 1);
