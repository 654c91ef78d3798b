/**
 * A real browser for the console's tests: Debian's Chromium driven by npm's
 * playwright-core (design section 4; `npx playwright install` cannot download
 * browsers here), headless, with a fresh profile and nothing that calls home.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { REPO_ROOT, runDir } from './context';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
] as const;

export interface RealBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** One browser profile per test file, thrown away at the end. */
export async function launchChromium(): Promise<RealBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const profile = mkdtempSync(path.join(tmpdir(), 'console-chromium-'));
  // A persistent context is the way to give Chromium its own --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1366, height: 900 },
    timezoneId: 'UTC',
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser };

/**
 * Where the screenshots go: docs/console/ when CONSOLE_SCREENSHOTS=docs (how
 * the committed ones are made: `npm run docs:console`), otherwise this run's
 * directory, so an ordinary `npm test` never rewrites tracked files.
 */
export function screenshotDir(): string {
  const dir = process.env.CONSOLE_SCREENSHOTS === 'docs' ? path.join(REPO_ROOT, 'docs', 'console') : path.join(runDir(), 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
