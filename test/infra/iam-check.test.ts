/**
 * The IAM check (`npm run test:iam`) against the synthesized stack with the
 * local operator and console roles: it cannot pass on nothing, it names every path that
 * escaped it, and it denies what the template does not grant, finding 2's
 * call included.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SERVICE_NAMES, STACK_NAME } from '../../lambda/core/contract';
import { WebhookIngestionStack } from '../../lib/webhook-ingestion-stack';
import { OPERATOR, UNATTRIBUTED, type AccessLogFile, type RecordedAccess } from '../../local/iam/access-log';
import { LOCAL_OPERATOR, iamDocSection, replaceDocSection, runIamCheck } from '../../local/iam/check';
import { recordOfflinePaths } from '../../local/iam/offline-paths';
import { scanSdkCommands } from '../../local/iam/sdk-commands';
import { TemplateResolver } from '../../local/iam/template-policies';
import { REPO_ROOT } from '../../local/paths';
import type { CfnTemplate } from '../../local/stack-shape';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new WebhookIngestionStack(app, STACK_NAME);
stack.grantOperatorRole(LOCAL_OPERATOR.roleArn, { readSigningSecret: LOCAL_OPERATOR.readSigningSecret });
if (LOCAL_OPERATOR.consoleRoleArn !== undefined) stack.grantConsoleRole(LOCAL_OPERATOR.consoleRoleArn);
const template = Template.fromStack(stack).toJSON() as CfnTemplate;
const resolver = new TemplateResolver(template, { region: 'us-east-1', account: '000000000000' });
const id = (construct: { node: { defaultChild?: unknown } }): string => stack.getLogicalId(construct.node.defaultChild as never);
const queueArn = resolver.getAtt(id(stack.ingestion.queue), 'Arn');
const dlqArn = resolver.getAtt(id(stack.ingestion.deadLetterQueue), 'Arn');
const deliveriesArn = resolver.getAtt(id(stack.ingestion.deliveriesTable as never), 'Arn');
const jobsArn = resolver.getAtt(id(stack.worker.jobsTable as never), 'Arn');

function access(principal: string, sdk: string, action: string | undefined, resource: string | undefined): RecordedAccess {
  return { principal, sdk, action, resource, context: {}, origin: 'test', count: 1 };
}

/** One allowed call per principal: what any real run has at least. */
const oneEach = [
  access(SERVICE_NAMES.receiver, 'DynamoDB.UpdateItem', 'dynamodb:UpdateItem', deliveriesArn),
  access(SERVICE_NAMES.worker, 'DynamoDB.UpdateItem', 'dynamodb:UpdateItem', jobsArn),
  access(OPERATOR, 'DynamoDB.GetItem', 'dynamodb:GetItem', jobsArn),
];

const log = (accesses: RecordedAccess[]): AccessLogFile => ({ version: 1, origin: 'test', account: '000000000000', accesses });

describe('the IAM check', () => {
  it('fails when nothing was recorded, naming each principal that made no call and each command never seen', async () => {
    const report = await runIamCheck({ logs: [], run: 'an empty run', template });
    expect(report.failures).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^no AWS call was recorded in an empty run/),
        `${SERVICE_NAMES.receiver} made no recorded call in an empty run`,
        `${SERVICE_NAMES.worker} made no recorded call in an empty run`,
        `${OPERATOR} made no recorded call in an empty run`,
        expect.stringMatching(/^SendMessageCommand \(.*lambda\/adapters\/sqs-queue\.ts.*\) was never recorded/),
      ]),
    );
  });

  it('requires every SDK command the source names, found by scanning lambda/ and ops/ (paginators included)', async () => {
    const commands = scanSdkCommands(REPO_ROOT).map((use) => use.command);
    expect(commands).toEqual(expect.arrayContaining(['UpdateItemCommand', 'PutObjectCommand', 'SendMessageCommand', 'StartMessageMoveTaskCommand', 'ListObjectsV2Command']));
    const report = await runIamCheck({ logs: [log(oneEach)], run: 'a thin run', template });
    const missing = report.result.missingCommands;
    // The offline paths record what no emulator serves; the rest must come from the run.
    expect(missing).not.toContain('StartMessageMoveTaskCommand');
    expect(missing).toEqual(expect.arrayContaining(['SendMessageCommand', 'PutObjectCommand', 'ListObjectsV2Command']));
  });

  it('denies what the template does not grant: redrive\'s old GetQueueAttributes on the work queue (finding 2)', async () => {
    const report = await runIamCheck({
      logs: [log([...oneEach, access(OPERATOR, 'SQS.GetQueueAttributes', 'sqs:GetQueueAttributes', queueArn)])],
      run: 'finding 2',
      template,
      requireEveryCommand: false,
    });
    expect(report.result.denied.map((judged) => `${judged.access.action} ${judged.access.resource}`)).toEqual([`sqs:GetQueueAttributes ${queueArn}`]);
    expect(report.failures).toContainEqual(expect.stringMatching(/^DENIED \(implicit-deny\): operator sqs:GetQueueAttributes/));
  });

  it('denies a function what only another function may do', async () => {
    const report = await runIamCheck({
      logs: [log([...oneEach, access(SERVICE_NAMES.worker, 'SQS.SendMessage', 'sqs:SendMessage', queueArn), access(SERVICE_NAMES.receiver, 'SQS.ReceiveMessage', 'sqs:ReceiveMessage', dlqArn)])],
      run: 'crossed roles',
      template,
      requireEveryCommand: false,
    });
    expect(report.result.denied).toHaveLength(2);
  });

  it('fails on a call no principal was attached to, and on one no IAM mapping knows', async () => {
    const report = await runIamCheck({
      logs: [log([...oneEach, access(UNATTRIBUTED, 'EventBridge.PutEvents', 'events:PutEvents', '*'), access(SERVICE_NAMES.worker, 'SQS.TagQueue', undefined, undefined)])],
      run: 'loose ends',
      template,
      requireEveryCommand: false,
    });
    expect(report.failures).toEqual(
      expect.arrayContaining([expect.stringMatching(/^EventBridge\.PutEvents \(test\) was made by a client no principal was attached to/), expect.stringMatching(/^SQS\.TagQueue .* has no IAM mapping/)]),
    );
  });

  it('lists the grants no call used, and fails on one with no reason to stay', async () => {
    const report = await runIamCheck({ logs: [log(oneEach)], run: 'thin', template, requireEveryCommand: false });
    const unused = report.unusedGrants.map((grant) => `${grant.principal} ${grant.action}`);
    expect(unused).toEqual(expect.arrayContaining([`${SERVICE_NAMES.receiver} logs:PutLogEvents`, `${SERVICE_NAMES.worker} sqs:GetQueueUrl`, `${SERVICE_NAMES.receiver} s3:PutObject`]));
    expect(report.unusedGrants.find((grant) => grant.action === 'logs:PutLogEvents')?.reason).toMatch(/Lambda runtime/);
    expect(report.failures).toContainEqual(expect.stringMatching(/^unused grant: webhook-receiver s3:PutObject .*remove it, or say why/));
  });

  it('writes its figures into the marked section of docs/security.md', async () => {
    const report = await runIamCheck({ logs: [log(oneEach)], run: 'thin', template, requireEveryCommand: false });
    const doc = replaceDocSection('before\n<!-- iam-evaluation:start (npm run test:iam -- --write-doc) -->old<!-- iam-evaluation:end -->\nafter', iamDocSection(report));
    expect(doc).toMatch(/^before\n<!-- iam-evaluation:start/);
    expect(doc).toContain('| webhook-worker | 1 | 1 | 0 | DynamoDB.UpdateItem |');
    expect(doc).toMatch(/<!-- iam-evaluation:end -->\nafter$/);
  });

  describe('offline paths', () => {
    it('record what the real redrive code sends to a move task, and what the task then does as the operator', async () => {
      const accesses = (await recordOfflinePaths(resolver)).flatMap((recorded) => recorded.accesses());
      const operator = accesses.filter((recorded) => recorded.principal === OPERATOR).map((recorded) => `${recorded.action} ${recorded.resource}${recorded.implied ? ' (implied)' : ''}`);
      expect(operator).toEqual(
        expect.arrayContaining([
          `sqs:GetQueueAttributes ${dlqArn}`,
          `sqs:StartMessageMoveTask ${dlqArn}`,
          `sqs:SendMessage ${queueArn} (implied)`,
          `sqs:ListMessageMoveTasks ${dlqArn}`,
        ]),
      );
      expect(operator).not.toContain(`sqs:GetQueueAttributes ${queueArn}`);
    });

    it('record the receiver\'s reads of its signing secret, both stages', async () => {
      const accesses = (await recordOfflinePaths(resolver)).flatMap((recorded) => recorded.accesses());
      const stages = accesses
        .filter((recorded) => recorded.principal === SERVICE_NAMES.receiver && recorded.action === 'secretsmanager:GetSecretValue')
        .map((recorded) => recorded.context['secretsmanager:VersionStage']);
      expect(stages.sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    });
  });
});
