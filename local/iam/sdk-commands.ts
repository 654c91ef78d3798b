/**
 * Every SDK command the deployed code and the ops tools can send, read from
 * their source: `new XxxCommand(` and the paginators (`paginateXxx(` sends
 * XxxCommand). The IAM check requires each among the recorded calls, so a
 * command added anywhere under these folders is checked as soon as it lands.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface SdkCommandUse {
  readonly command: string;
  /** Repository-relative files that name it. */
  readonly files: readonly string[];
}

const COMMAND = /\bnew\s+([A-Z][A-Za-z0-9]*Command)\s*\(/g;
const PAGINATOR = /\bpaginate([A-Z][A-Za-z0-9]*)\s*\(/g;

/** The commands one source text names. */
export function commandsIn(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(COMMAND)) found.add(match[1]);
  for (const match of source.matchAll(PAGINATOR)) found.add(`${match[1]}Command`);
  return [...found].sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

export function scanSdkCommands(root: string, folders: readonly string[] = ['lambda', 'ops']): SdkCommandUse[] {
  const byCommand = new Map<string, string[]>();
  for (const folder of folders) {
    for (const file of sourceFiles(path.join(root, folder))) {
      for (const command of commandsIn(readFileSync(file, 'utf8'))) {
        byCommand.set(command, [...(byCommand.get(command) ?? []), path.relative(root, file)]);
      }
    }
  }
  return [...byCommand].map(([command, files]) => ({ command, files })).sort((a, b) => a.command.localeCompare(b.command));
}
