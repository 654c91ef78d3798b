#!/usr/bin/env node
/**
 * The tools and tests run on the Lambda runtime's Node major (24), whatever Node
 * the machine has: `npm ci` installs it (devDependency `node`, binaries from the
 * npm registry) and npm scripts put `node_modules/.bin` first on PATH. This check
 * makes a run on any other Node fail at once, with the way out, instead of
 * passing on a runtime we never deploy.
 */
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major !== REQUIRED_MAJOR) {
  console.error(
    `toolchain: Node ${process.version}, but the tools and tests run on Node ${REQUIRED_MAJOR} (the Lambda runtime's major). ` +
      'Run them through npm scripts (npm test, npm start, npm run ...) after npm ci, which installs Node 24 into node_modules/.bin.',
  );
  process.exit(1);
}
console.log(`toolchain: Node ${process.version} (${process.execPath})`);
