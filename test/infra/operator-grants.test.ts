/**
 * The operator grants: `grantReplay`, `grantRedrive` and `grantConsole` give
 * an operator role exactly what `npm run replay`, `npm run redrive` and the
 * console's read-only views call, on this stack's resources only.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME } from '../../lambda/core/contract';
import { WebhookIngestionStack } from '../../lib/webhook-ingestion-stack';
import { actionsOf, getAtt, logicalId, objectsUnder, resourcesFor, roleStatements, type Statement, projectApp } from './support/synth';

function synthesizeWithOperator(grant: (stack: WebhookIngestionStack, role: iam.Role) => void): {
  stack: WebhookIngestionStack;
  statements: Statement[];
} {
  const app = projectApp({ bundle: false });
  const stack = new WebhookIngestionStack(app, STACK_NAME);
  const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  grant(stack, role);
  return { stack, statements: roleStatements(Template.fromStack(stack), role) };
}

function statementFor(statements: readonly Statement[], action: string): Statement | undefined {
  return statements.find((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
}

describe('operator grants', () => {
  describe('grantReplay', () => {
    const { stack, statements } = synthesizeWithOperator((s, role) => s.grantReplay(role));
    const bucketId = logicalId(stack.ingestion.archiveBucket);

    it('allows listing and reading the archive, sending to the queue and reading jobs, and nothing else', () => {
      expect(actionsOf(statements)).toEqual(['dynamodb:GetItem', 's3:GetObject', 's3:ListBucket', 'sqs:SendMessage']);
    });

    it('reads only the raw/ objects of the archive bucket', () => {
      expect(resourcesFor(statements, 's3:GetObject')).toEqual([objectsUnder(bucketId, 'raw/')]);
    });

    it('lists only under the raw/ prefix', () => {
      expect(resourcesFor(statements, 's3:ListBucket')).toEqual([getAtt(bucketId)]);
      expect(statementFor(statements, 's3:ListBucket')?.Condition).toEqual({ StringLike: { 's3:prefix': ['raw/*'] } });
    });

    it('cannot read the signing secret unless asked to', () => {
      expect(resourcesFor(statements, 'secretsmanager:GetSecretValue')).toEqual([]);
    });

    it('sends only to the work queue, never the dead-letter queue', () => {
      expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([getAtt(logicalId(stack.ingestion.queue))]);
    });

    it('reads only the jobs table and cannot write it', () => {
      expect(resourcesFor(statements, 'dynamodb:GetItem')).toEqual([getAtt(logicalId(stack.worker.jobsTable as never))]);
      expect(actionsOf(statements).filter((action) => /Put|Update|Delete|Write/.test(action))).toEqual([]);
    });
  });

  describe('grantReplay with readSigningSecret (replay --verify)', () => {
    const { stack, statements } = synthesizeWithOperator((s, role) => s.grantReplay(role, { readSigningSecret: true }));

    it('reads the signing secret and nothing more', () => {
      expect(resourcesFor(statements, 'secretsmanager:GetSecretValue')).toEqual([JSON.stringify({ Ref: logicalId(stack.ingestion.signingSecret as never) })]);
      expect(actionsOf(statements).filter((action) => action.startsWith('secretsmanager:'))).toEqual(['secretsmanager:GetSecretValue']);
    });
  });

  describe('grantRedrive', () => {
    const { stack, statements } = synthesizeWithOperator((s, role) => s.grantRedrive(role));
    const dlq = getAtt(logicalId(stack.ingestion.deadLetterQueue));
    const queue = getAtt(logicalId(stack.ingestion.queue));

    it('consumes and moves messages from the dead-letter queue only', () => {
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks']) {
        expect(resourcesFor(statements, action)).toEqual([dlq]);
      }
    });

    it('sends only to the work queue', () => {
      expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([queue]);
    });

    it('grants exactly what redrive calls on the dead-letter queue: no cancel, which the tool never sends', () => {
      expect(actionsOf(statements).filter((action) => resourcesFor(statements, action).includes(dlq))).toEqual([
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ListMessageMoveTasks',
        'sqs:ReceiveMessage',
        'sqs:StartMessageMoveTask',
      ]);
    });

    it('touches no table, bucket or secret', () => {
      expect(actionsOf(statements).filter((action) => !action.startsWith('sqs:'))).toEqual([]);
    });
  });

  describe('grantEventsRedrive', () => {
    const { stack, statements } = synthesizeWithOperator((s, role) => s.grantEventsRedrive(role));
    const jobEvents = stack.jobEvents!;

    it('allows taking batches off the failure queue, reading the jobs stream and putting events on the bus, and nothing else', () => {
      expect(actionsOf(statements)).toEqual(['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'events:PutEvents', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']);
    });

    it('each on its one resource', () => {
      expect(resourcesFor(statements, 'sqs:ReceiveMessage')).toEqual([getAtt(logicalId(jobEvents.failureQueue))]);
      expect(resourcesFor(statements, 'dynamodb:GetRecords')).toEqual([getAtt(logicalId(stack.worker.jobsTable as never), 'StreamArn')]);
      expect(resourcesFor(statements, 'events:PutEvents')).toEqual([getAtt(logicalId(jobEvents.eventBus as never))]);
    });
  });

  describe('grantConsole', () => {
    const { stack, statements } = synthesizeWithOperator((s, role) => s.grantConsole(role));
    const { ingestion, worker } = stack;
    const dlq = getAtt(logicalId(ingestion.deadLetterQueue));

    it('allows exactly the read-only views\' calls: items, the stuck jobs, the archive, the receiver\'s log lines, metrics, and the DLQ\'s depth and messages', () => {
      expect(actionsOf(statements)).toEqual([
        'cloudwatch:GetMetricData',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'logs:FilterLogEvents',
        's3:GetObject',
        's3:ListBucket',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ]);
    });

    it('changes nothing: no write, send, delete or move', () => {
      expect(actionsOf(statements).filter((action) => /Put|Update|Delete|Write|Send|Start|Move/.test(action))).toEqual([]);
    });

    it('reads the jobs and deliveries tables only', () => {
      expect(resourcesFor(statements, 'dynamodb:GetItem').sort()).toEqual(
        [getAtt(logicalId(worker.jobsTable as never)), getAtt(logicalId(ingestion.deliveriesTable))].sort(),
      );
    });

    it('queries only the jobs table\'s open-jobs index (the stuck jobs)', () => {
      expect(resourcesFor(statements, 'dynamodb:Query')).toEqual([
        JSON.stringify({ 'Fn::Join': ['', [JSON.parse(getAtt(logicalId(worker.jobsTable as never))), '/index/open-jobs']] }),
      ]);
    });

    it('reads the receiver\'s log group only', () => {
      expect(resourcesFor(statements, 'logs:FilterLogEvents')).toEqual([getAtt(logicalId(ingestion.receiverLogGroup))]);
    });

    it('looks at the dead-letter queue only: nothing on the work queue', () => {
      expect(resourcesFor(statements, 'sqs:ReceiveMessage')).toEqual([dlq]);
      expect(resourcesFor(statements, 'sqs:GetQueueAttributes')).toEqual([dlq]);
    });

    it('reads the archive as replay does: raw/ objects, listed under raw/', () => {
      expect(resourcesFor(statements, 's3:GetObject')).toEqual([objectsUnder(logicalId(ingestion.archiveBucket), 'raw/')]);
      expect(statementFor(statements, 's3:ListBucket')?.Condition).toEqual({ StringLike: { 's3:prefix': ['raw/*'] } });
    });

    it('cannot read the signing secret unless asked to', () => {
      expect(resourcesFor(statements, 'secretsmanager:GetSecretValue')).toEqual([]);
      const withSecret = synthesizeWithOperator((s, role) => s.grantConsole(role, { readSigningSecret: true }));
      expect(resourcesFor(withSecret.statements, 'secretsmanager:GetSecretValue')).toEqual([JSON.stringify({ Ref: logicalId(withSecret.stack.ingestion.signingSecret as never) })]);
    });

    it('leaves cdk-nag with no finding on a role of the stack (GetMetricData has no resource-level permission: acknowledged)', () => {
      const report = new AwsSolutionsChecks(undefined).validateScope(stack);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    });
  });

  describe('grantConsoleRole, as bin/app.ts does with -c consoleRoleArn', () => {
    it('grants an imported role the console\'s read-only views and nothing else, with no cdk-nag finding', () => {
      // Prepare
      const app = projectApp({ bundle: false });
      const stack = new WebhookIngestionStack(app, STACK_NAME);

      // Act
      stack.grantConsoleRole('arn:aws:iam::123456789012:role/on-call');
      const template = Template.fromStack(stack);
      const report = new AwsSolutionsChecks(undefined).validateScope(stack);

      // Assess
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify(['on-call']));
      expect(policies).toHaveLength(1);
      const actions = actionsOf(policies[0].Properties.PolicyDocument.Statement as Statement[]);
      expect(actions).toEqual(['cloudwatch:GetMetricData', 'dynamodb:GetItem', 'dynamodb:Query', 'logs:FilterLogEvents', 's3:GetObject', 's3:ListBucket', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    });
  });

  describe('granted to an imported operator role, as bin/app.ts does with -c operatorRoleArn', () => {
    it('leaves cdk-nag with no finding', () => {
      // Prepare
      const app = projectApp({ bundle: false });
      const stack = new WebhookIngestionStack(app, STACK_NAME);

      // Act
      stack.grantOperatorRole('arn:aws:iam::123456789012:role/ops', { readSigningSecret: true });
      const report = new AwsSolutionsChecks(undefined).validateScope(stack);

      // Assess
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    });
  });
});
