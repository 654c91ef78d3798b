/**
 * Synthesizes the real CDK stack in-process so the local resources match it.
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`): only the template matters
 * here, not the Lambda assets. Loading aws-cdk-lib and synthesizing costs seconds,
 * so the template is cached under `.local/` by a hash of everything it depends on.
 * The bundles mode asks for a whole cloud assembly instead, bundles included
 * (`outdir`), as `cdk synth` writes it (cloud-assembly.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { STACK_NAME } from '../lambda/core/contract';
import { REPO_ROOT, ensureDir } from './paths';
import type { CfnTemplate } from './stack-shape';

export const STACK_MODULE = path.join(REPO_ROOT, 'lib', 'webhook-ingestion-stack.ts');
/** The stack reads defaults from `lambda/core`; a change there can change the template. */
const TEMPLATE_INPUTS = [path.join(REPO_ROOT, 'lib'), path.join(REPO_ROOT, 'lambda', 'core')];
const EXTRA_INPUTS = [path.join(REPO_ROOT, 'cdk.json'), path.join(REPO_ROOT, 'package-lock.json'), __filename];

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

export function templateInputsHash(): string {
  const hash = createHash('sha256');
  for (const file of [...TEMPLATE_INPUTS.flatMap(listSources), ...EXTRA_INPUTS]) {
    if (!existsSync(file)) continue;
    hash.update(path.relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

/** The feature flags `cdk synth` would pass from cdk.json, so both synth the same template. */
function cdkJsonContext(): Record<string, unknown> {
  try {
    const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
    return cdkJson.context ?? {};
  } catch {
    return {};
  }
}

/**
 * An operator role the stack grants replay, redrive, reconcile and the
 * console, as `bin/app.ts` does with `-c operatorRoleArn`; optionally a role
 * granted only the console's read-only views (`-c consoleRoleArn`).
 */
export interface OperatorGrant {
  readonly roleArn: string;
  readonly readSigningSecret?: boolean;
  readonly consoleRoleArn?: string;
}

export interface SynthesisOptions {
  readonly operator?: OperatorGrant;
  /**
   * Write a whole cloud assembly here, Lambda bundles included, as `cdk synth` does.
   * @default - no bundling, an in-memory assembly: only the template matters
   */
  readonly outdir?: string;
}

export async function synthesizeStackTemplate(options: SynthesisOptions = {}): Promise<CfnTemplate> {
  const { operator } = options;
  if (!existsSync(STACK_MODULE)) throw new Error(`the stack is not there yet: ${path.relative(REPO_ROOT, STACK_MODULE)}`);
  // Resolved at run time: aws-cdk-lib is only loaded when the cache misses.
  const { App } = (await import('aws-cdk-lib')) as typeof import('aws-cdk-lib');
  const stackModule = (await import(STACK_MODULE)) as {
    WebhookIngestionStack?: new (
      scope: unknown,
      id: string,
      props?: unknown,
    ) => { grantOperatorRole?: (arn: string, options: unknown) => unknown; grantConsoleRole?: (arn: string) => unknown };
  };
  if (typeof stackModule.WebhookIngestionStack !== 'function') {
    throw new Error(`${path.relative(REPO_ROOT, STACK_MODULE)} does not export class WebhookIngestionStack`);
  }
  const app =
    options.outdir === undefined
      ? new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } })
      : new App({ outdir: options.outdir, context: cdkJsonContext() });
  const stack = new stackModule.WebhookIngestionStack(app, STACK_NAME);
  if (operator !== undefined) {
    if (typeof stack.grantOperatorRole !== 'function') throw new Error('WebhookIngestionStack has no grantOperatorRole');
    stack.grantOperatorRole(operator.roleArn, { readSigningSecret: operator.readSigningSecret });
    if (operator.consoleRoleArn !== undefined) {
      if (typeof stack.grantConsoleRole !== 'function') throw new Error('WebhookIngestionStack has no grantConsoleRole');
      stack.grantConsoleRole(operator.consoleRoleArn);
    }
  }
  return app.synth().getStackByName(STACK_NAME).template as CfnTemplate;
}

export interface LoadedTemplate {
  readonly template: CfnTemplate;
  readonly source: 'cache' | 'synth';
  readonly millis: number;
}

export async function loadStackTemplate(options: {
  readonly cacheDir: string;
  readonly useCache?: boolean;
  readonly operator?: OperatorGrant;
}): Promise<LoadedTemplate> {
  const started = Date.now();
  const cacheDir = ensureDir(path.join(options.cacheDir, 'template-cache'));
  const hash = templateInputsHash();
  const variant = options.operator ? `-operator-${createHash('sha256').update(JSON.stringify(options.operator)).digest('hex').slice(0, 8)}` : '';
  const cacheFile = path.join(cacheDir, `${hash}${variant}.json`);
  if (options.useCache !== false && existsSync(cacheFile)) {
    return { template: JSON.parse(readFileSync(cacheFile, 'utf8')) as CfnTemplate, source: 'cache', millis: Date.now() - started };
  }
  const template = await synthesizeStackTemplate({ operator: options.operator });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(template));
  renameSync(tmp, cacheFile);
  // Templates of older inputs go; this input's other variants (with or without an operator) stay.
  for (const stale of readdirSync(cacheDir)) {
    if (stale.endsWith('.json') && !stale.startsWith(hash)) rmSync(path.join(cacheDir, stale), { force: true });
  }
  return { template, source: 'synth', millis: Date.now() - started };
}
