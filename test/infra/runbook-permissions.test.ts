/**
 * The runbook's list of what the operator role needs is the synthesized
 * operator policy (grantReplay + grantRedrive + grantReconcile + grantConsole,
 * with the opt-in secret read, as grantOperatorRole grants them), rendered: it
 * cannot drift from the grants again (finding 2).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { STACK_NAME } from '../../lambda/core/contract';
import { WebhookIngestionStack } from '../../lib/webhook-ingestion-stack';
import { getAtt, logicalId, objectsUnder, roleStatements } from './support/synth';

const START = '<!-- operator-permissions:start (test/infra/runbook-permissions.test.ts) -->';
const END = '<!-- operator-permissions:end -->';

function expectedList(): string {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new WebhookIngestionStack(app, STACK_NAME);
  const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  stack.grantReplay(role, { readSigningSecret: true });
  stack.grantRedrive(role);
  stack.grantReconcile(role);
  stack.grantConsole(role, { readSigningSecret: true });
  const bucket = logicalId(stack.ingestion.archiveBucket);
  const labels = new Map<string, string>([
    [getAtt(bucket), 'the archive bucket'],
    [objectsUnder(bucket, 'raw/'), 'the archive\'s `raw/*` objects'],
    [getAtt(logicalId(stack.ingestion.queue)), 'the work queue'],
    [getAtt(logicalId(stack.ingestion.deadLetterQueue)), 'the dead-letter queue'],
    [getAtt(logicalId(stack.worker.jobsTable as never)), 'the jobs table'],
    [JSON.stringify({ 'Fn::Join': ['', [JSON.parse(getAtt(logicalId(stack.worker.jobsTable as never))), '/index/open-jobs']] }), 'the jobs table\'s `open-jobs` index'],
    [getAtt(logicalId(stack.ingestion.deliveriesTable)), 'the deliveries table'],
    [getAtt(logicalId(stack.ingestion.receiverLogGroup)), 'the receiver\'s log group'],
    ['"*"', '`*` (GetMetricData has no resource-level permission)'],
    [JSON.stringify({ Ref: logicalId(stack.ingestion.signingSecret as never) }), 'the signing secret (only with `-c operatorReadsSigningSecret=true`)'],
  ]);
  return roleStatements(Template.fromStack(stack), role)
    .map((statement) => {
      const actions = [statement.Action].flat().map((action) => `\`${action}\``).join(', ');
      const resources = [statement.Resource].flat().map((resource) => labels.get(JSON.stringify(resource)) ?? `UNLABELLED ${JSON.stringify(resource)}`);
      const tests = Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap(([operator, keys]) =>
        Object.entries(keys).map(([key, values]) => `\`${key}\` ${operator} ${[values].flat().map((value) => `\`${String(value)}\``).join(' or ')}`),
      );
      const condition = tests.length > 0 ? `, only when ${tests.join(' and ')}` : '';
      return `- ${actions} on ${resources.join(', ')}${condition}`;
    })
    .join('\n');
}

describe('docs/runbook.md', () => {
  it('lists exactly the operator grants the stack synthesizes', () => {
    const runbook = readFileSync(path.join(__dirname, '..', '..', 'docs', 'runbook.md'), 'utf8');
    const start = runbook.indexOf(START);
    const end = runbook.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    const listed = runbook.slice(start + START.length, end).trim();
    // On a change of grants, paste the expected list between the markers.
    expect(listed).toBe(expectedList());
  });
});
