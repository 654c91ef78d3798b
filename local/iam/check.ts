/**
 * `npm run test:iam` (the last step of `npm test`): IAM proven without an
 * account. Every AWS call the receiver, the worker (and Lambda's poller with
 * its role) and the ops CLIs made during the e2e run, plus the offline paths
 * (offline-paths.ts), is evaluated against the synthesized template, with an
 * operator role granted replay and redrive as `-c operatorRoleArn` grants it,
 * and a console role granted the console's read-only views (`-c consoleRoleArn`).
 *
 * Fails when: a call is denied; nothing was recorded, or a principal of the
 * template made no call; a call has no principal or no IAM mapping; an SDK
 * command named in `lambda/` or `ops/` was never recorded; a grant no call used
 * has no reason to stay (grant-reasons.ts).
 *
 * Options: --calls FILE (default .local/e2e/aws-calls.json, written by the e2e
 * teardown), --write-doc (rewrite the IAM section of docs/security.md).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LOCAL_REGION } from '../../ops/lib/clients';
import { DEFAULT_STATE_DIR, REPO_ROOT } from '../paths';
import { LOCAL_ACCOUNT } from '../resources';
import type { CfnTemplate } from '../stack-shape';
import { loadStackTemplate, type OperatorGrant } from '../synth';
import { CONSOLE_VIEWER, OPERATOR, type AccessLogFile, type RecordedAccess } from './access-log';
import { evaluateAccesses, type EvaluationResult } from './evaluate-accesses';
import { unusedGrantReason } from './grant-reasons';
import { recordOfflinePaths } from './offline-paths';
import { scanSdkCommands } from './sdk-commands';
import { TemplateResolver, aliasResource, outputAliases, principalRoles } from './template-policies';

/** Written by the e2e teardown: every access log of the run, merged. */
export const E2E_ACCESS_LOGS_FILE = path.join(DEFAULT_STATE_DIR, 'e2e', 'aws-calls.json');
export const OPERATOR_ROLE_NAME = 'webhook-operator';
export const CONSOLE_ROLE_NAME = 'webhook-console';
/**
 * The operator as the check sees it: replay, redrive, reconcile and the
 * console, and the opt-in secret read of replay --verify --secret-arn; and a
 * role granted only the console's read-only views (`-c consoleRoleArn`), which
 * the read-only console's calls are judged against.
 */
export const LOCAL_OPERATOR: OperatorGrant = {
  roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${OPERATOR_ROLE_NAME}`,
  readSigningSecret: true,
  consoleRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${CONSOLE_ROLE_NAME}`,
};
/** The imported roles of that template, by the principal their calls are recorded as. */
export const IMPORTED_ROLES: Readonly<Record<string, string>> = { [OPERATOR]: OPERATOR_ROLE_NAME, [CONSOLE_VIEWER]: CONSOLE_ROLE_NAME };

export interface MergedAccessLogs {
  readonly finishedAt: string;
  readonly logs: readonly AccessLogFile[];
}

export interface IamCheckOptions {
  readonly logs: readonly AccessLogFile[];
  /** Which run the logs are of, for the report. */
  readonly run: string;
  readonly cacheDir?: string;
  /** Every SDK command of the source must be recorded (the e2e run drives them all; the reliability run only the pipeline). @default true */
  readonly requireEveryCommand?: boolean;
  /** Principals that must have made a recorded call. @default - every principal of the template */
  readonly requirePrincipals?: readonly string[];
  /** Fail on a grant no call used and no reason keeps (grant-reasons.ts): for a run that drives every path. @default true */
  readonly judgeUnusedGrants?: boolean;
  /** The template to judge against. @default - the stack synthesized with LOCAL_OPERATOR */
  readonly template?: CfnTemplate;
}

export interface IamCheckReport {
  readonly run: string;
  readonly result: EvaluationResult;
  readonly failures: readonly string[];
  readonly unusedGrants: ReadonlyArray<EvaluationResult['unusedGrants'][number] & { readonly reason?: string }>;
  readonly sources: readonly string[];
}

export async function runIamCheck(options: IamCheckOptions): Promise<IamCheckReport> {
  const template = options.template ?? (await loadStackTemplate({ cacheDir: options.cacheDir ?? DEFAULT_STATE_DIR, operator: LOCAL_OPERATOR })).template;
  const local = Object.assign({}, ...options.logs.map((log) => log.resources ?? {})) as NonNullable<AccessLogFile['resources']>;
  const resolver = new TemplateResolver(template, { region: LOCAL_REGION, account: LOCAL_ACCOUNT, local });
  const offline = await recordOfflinePaths(resolver);
  const recorded: RecordedAccess[] = options.logs.flatMap((log) => {
    const aliases = log.outputs !== undefined ? outputAliases(resolver, log.outputs) : [];
    return log.accesses.map((access) => (access.resource === undefined ? access : { ...access, resource: aliasResource(access.resource, aliases) }));
  });
  const accesses = [...recorded, ...offline.flatMap((log) => log.accesses())];
  const sourceCommands = scanSdkCommands(REPO_ROOT).map((use) => use.command);
  const result = evaluateAccesses({
    template,
    operatorRoleName: IMPORTED_ROLES,
    accesses,
    region: LOCAL_REGION,
    account: LOCAL_ACCOUNT,
    local,
    sourceCommands: options.requireEveryCommand === false ? [] : sourceCommands,
  });

  const failures: string[] = [];
  const recordedCalls = recorded.filter((access) => !access.implied).reduce((sum, access) => sum + access.count, 0);
  if (recordedCalls === 0) failures.push(`no AWS call was recorded in ${options.run}: was recording on (AWS_ACCESS_LOG_DIR)?`);
  for (const principal of options.requirePrincipals ?? [...principalRoles(template, IMPORTED_ROLES).keys()]) {
    if (!recorded.some((access) => access.principal === principal)) failures.push(`${principal} made no recorded call in ${options.run}`);
  }
  for (const denied of result.denied) {
    const { access } = denied;
    const by = denied.deniedBy.map((match) => `${match.policy}[${match.index}]`).join(', ');
    failures.push(`DENIED (${denied.decision}${by ? ` by ${by}` : ''}): ${access.principal} ${access.action} on ${access.resource} (${access.sdk}, ${access.origin})`);
  }
  failures.push(...result.problems);
  for (const command of result.missingCommands) {
    const files = scanSdkCommands(REPO_ROOT).find((use) => use.command === command)?.files ?? [];
    failures.push(`${command} (${files.join(', ')}) was never recorded: drive it in an e2e test, or as an offline path (local/iam/offline-paths.ts)`);
  }
  const unusedGrants = result.unusedGrants.map((grant) => ({ ...grant, reason: unusedGrantReason(grant.principal, grant.action) }));
  for (const grant of options.judgeUnusedGrants === false ? [] : unusedGrants) {
    if (grant.reason === undefined) {
      failures.push(`unused grant: ${grant.principal} ${grant.action} on ${grant.resource} (${grant.policy}): remove it, or say why it stays in local/iam/grant-reasons.ts`);
    }
  }
  const sources = [...new Set(accesses.map((access) => access.origin))].sort();
  return { run: options.run, result, failures, unusedGrants, sources };
}

export function formatIamReport(report: IamCheckReport): string[] {
  const lines = [`iam: ${report.run}: ${report.result.totalCalls} calls evaluated (sources: ${report.sources.join('; ')})`];
  for (const figures of report.result.figures) {
    lines.push(`  ${figures.principal}: ${figures.calls} calls, ${figures.requests} distinct requests, ${figures.denied} denied (${[...figures.sdk].sort().join(', ')})`);
  }
  for (const grant of report.unusedGrants) lines.push(`  unused: ${grant.principal} ${grant.action} on ${grant.resource}${grant.reason ? `: ${grant.reason}` : ''}`);
  for (const failure of report.failures) lines.push(`  FAIL ${failure}`);
  lines.push(`iam: ${report.failures.length === 0 ? 'PASSED' : `FAILED (${report.failures.length})`}: ${report.result.denied.length} denied`);
  return lines;
}

const DOC_START = '<!-- iam-evaluation:start (npm run test:iam -- --write-doc) -->';
const DOC_END = '<!-- iam-evaluation:end -->';

/** The IAM section of docs/security.md, from one check's figures. */
export function iamDocSection(report: IamCheckReport): string {
  const rows = report.result.figures.map((figures) => `| ${figures.principal} | ${figures.calls} | ${figures.requests} | ${figures.denied} | ${[...figures.sdk].sort().join(', ')} |`);
  const unused = report.unusedGrants.map((grant) => `| ${grant.principal} | \`${grant.action}\` | \`${grant.resource}\` | ${grant.reason ?? '**none: fails the check**'} |`);
  return [
    DOC_START,
    `Run: ${report.run}; evaluated ${report.result.totalCalls} calls, **${report.result.denied.length} denied**. Calls count the offline paths' too; distinct requests include what a call implies (a move task's receive, delete and send).`,
    '',
    '| principal | calls | distinct requests | denied | SDK calls |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Grants no recorded call used (local names):',
    '',
    '| principal | action | resource | why it stays |',
    '|---|---|---|---|',
    ...unused,
    DOC_END,
  ].join('\n');
}

export function replaceDocSection(document: string, section: string): string {
  const start = document.indexOf(DOC_START);
  const end = document.indexOf(DOC_END);
  if (start === -1 || end === -1) throw new Error('docs/security.md has no IAM evaluation markers');
  return document.slice(0, start) + section + document.slice(end + DOC_END.length);
}

async function main(argv: readonly string[]): Promise<number> {
  const callsIndex = argv.indexOf('--calls');
  const file = callsIndex === -1 ? E2E_ACCESS_LOGS_FILE : path.resolve(argv[callsIndex + 1]);
  if (!existsSync(file)) {
    process.stderr.write(`iam: no recorded calls at ${path.relative(REPO_ROOT, file)}: run the e2e tests first (npm test runs them, then this check)\n`);
    return 1;
  }
  const merged = JSON.parse(readFileSync(file, 'utf8')) as MergedAccessLogs;
  const report = await runIamCheck({ logs: merged.logs, run: `e2e run finished ${merged.finishedAt}` });
  for (const line of formatIamReport(report)) process.stdout.write(`${line}\n`);
  writeFileSync(path.join(DEFAULT_STATE_DIR, 'iam-report.json'), `${JSON.stringify(report, (_key, value: unknown) => (value instanceof Set ? [...value] : value), 2)}\n`);
  if (argv.includes('--write-doc')) {
    const doc = path.join(REPO_ROOT, 'docs', 'security.md');
    writeFileSync(doc, replaceDocSection(readFileSync(doc, 'utf8'), iamDocSection({ ...report, run: 'the e2e run of `npm test`' })));
  }
  return report.failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`iam: check crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
