/**
 * Reading the policies out of a synthesized template: intrinsics resolved to
 * local names, each principal's role and policies found, each resource's own
 * policy found for the ARNs it guards.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SERVICE_NAMES, STACK_NAME } from '../../lambda/core/contract';
import { WebhookIngestionStack } from '../../lib/webhook-ingestion-stack';
import { evaluate, type PolicyDocument } from '../../local/iam/policy-evaluator';
import {
  TemplateResolver,
  UnresolvableError,
  aliasResource,
  outputAliases,
  principalPolicies,
  ARCHIVE_STREAM_PRINCIPAL,
  principalRoles,
  resourcePolicies,
  resourcePolicyFor,
} from '../../local/iam/template-policies';
import type { CfnTemplate } from '../../local/stack-shape';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

function synthesized(): { template: CfnTemplate; stack: WebhookIngestionStack } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new WebhookIngestionStack(app, STACK_NAME);
  stack.grantOperatorRole(`arn:aws:iam::${ACCOUNT}:role/ops`, { readSigningSecret: true });
  return { template: Template.fromStack(stack).toJSON() as CfnTemplate, stack };
}

const { template, stack } = synthesized();
const logicalId = (construct: { node: { defaultChild?: unknown } }): string => stack.getLogicalId(construct.node.defaultChild as never);
const queueId = logicalId(stack.ingestion.queue);
const local = { [queueId]: { ref: 'http://sqs.us-east-1.localhost:9/000000000000/webhook-queue', attributes: { Arn: 'arn:aws:sqs:us-east-1:000000000000:webhook-queue' } } };
const resolver = new TemplateResolver(template, { region: REGION, account: ACCOUNT, local });

describe('template policies', () => {
  describe('the resolver', () => {
    it('resolves Ref, GetAtt, Join, Sub, Select and Split, pseudo parameters included', () => {
      expect(resolver.resolve({ Ref: 'AWS::Partition' })).toBe('aws');
      expect(resolver.resolve({ 'Fn::GetAtt': [queueId, 'Arn'] })).toBe('arn:aws:sqs:us-east-1:000000000000:webhook-queue');
      expect(resolver.resolve({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [queueId, 'Arn'] }, '/x']] })).toBe('arn:aws:sqs:us-east-1:000000000000:webhook-queue/x');
      expect(resolver.resolve({ 'Fn::Sub': `\${AWS::Region}:\${${queueId}.Arn}` })).toBe('us-east-1:arn:aws:sqs:us-east-1:000000000000:webhook-queue');
      expect(resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] })).toBe('b');
    });

    it('prefers what the local stack created, and gives every other resource a stable local value of its type', () => {
      expect(resolver.ref(queueId)).toBe(local[queueId].ref);
      const secretId = logicalId(stack.ingestion.signingSecret as never);
      expect(resolver.ref(secretId)).toBe(`arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}-AbCdEf`);
    });

    it('refuses what it cannot resolve rather than inventing it', () => {
      expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow(UnresolvableError);
      expect(() => resolver.ref('NoSuchResource')).toThrow(/no resource NoSuchResource/);
    });
  });

  describe('principals', () => {
    it('finds each function\'s role by the service name its clients are recorded under, the archive stream\'s destination role, and the imported operator role by name', () => {
      const roles = principalRoles(template, 'ops');
      expect([...roles.keys()].sort()).toEqual(['operator', ARCHIVE_STREAM_PRINCIPAL, SERVICE_NAMES.receiver, SERVICE_NAMES.worker, SERVICE_NAMES.reconciler, SERVICE_NAMES.jobEvents].sort());
      expect(roles.get('operator')).toEqual({ roleName: 'ops' });
      expect(roles.get(ARCHIVE_STREAM_PRINCIPAL)?.roleLogicalId).toMatch(/^IngestionArchiveStreamRole/);
    });

    it('collects the policies attached to a role, resolved', () => {
      const worker = principalPolicies(resolver, SERVICE_NAMES.worker);
      expect(worker.roleArn).toMatch(/^arn:aws:iam::000000000000:role\/WorkerFunctionRole/);
      const allowsReceive = evaluate(
        { principalArn: worker.roleArn, principalAccount: ACCOUNT, action: 'sqs:ReceiveMessage', resource: local[queueId].attributes.Arn, context: {} },
        { identity: worker.identity },
      );
      expect(allowsReceive.decision).toBe('allow');
    });

    it('gives the operator the grants of grantReplay, grantRedrive and grantReconcile, and nothing of the receiver\'s or the worker\'s', () => {
      const operator = principalPolicies(resolver, 'operator', 'ops');
      const actions = operator.identity.flatMap((policy) => [policy.document.Statement].flat().flatMap((statement) => [statement.Action ?? []].flat()));
      expect(actions).toContain('sqs:StartMessageMoveTask');
      expect(actions).toContain('dynamodb:Query');
      expect(actions).not.toContain('sqs:ChangeMessageVisibility');
      const resources = JSON.stringify(operator.identity.map((policy) => policy.document));
      expect(resources).not.toContain('webhook-deliveries');
      expect(operator.roleArn).toBe('arn:aws:iam::000000000000:role/ops');
    });

    it('refuses a principal the template has no role for', () => {
      expect(() => principalPolicies(resolver, 'someone-else')).toThrow(/no role in the template for principal someone-else/);
    });
  });

  describe('resource policies', () => {
    const policies = resourcePolicies(resolver);
    const bucketArn = resolver.getAtt(logicalId(stack.ingestion.archiveBucket), 'Arn');

    it('guard a bucket and every object in it', () => {
      expect(resourcePolicyFor(policies, bucketArn)?.policy.name).toMatch(/ArchiveBucketPolicy/);
      expect(resourcePolicyFor(policies, `${bucketArn}/raw/x.json`)?.policy.name).toMatch(/ArchiveBucketPolicy/);
    });

    it('guard exactly their queue', () => {
      expect(resourcePolicyFor(policies, local[queueId].attributes.Arn)?.policy.name).toMatch(/QueuePolicy/);
      expect(resourcePolicyFor(policies, `${local[queueId].attributes.Arn}-other`)).toBeUndefined();
    });

    it('mark KMS key policies, which must allow on their own', () => {
      expect(policies.filter((policy) => policy.kmsKey).map((policy) => policy.policy.name)).toEqual([expect.stringMatching(/AlarmTopicKey/)]);
    });

    it('are resolved documents the evaluator reads: the bucket policy denies plain HTTP', () => {
      const guard = resourcePolicyFor(policies, bucketArn);
      const decision = evaluate(
        { principalArn: 'arn:aws:iam::000000000000:role/ops', principalAccount: ACCOUNT, action: 's3:ListBucket', resource: bucketArn, context: { 'aws:SecureTransport': 'false' } },
        { identity: [{ name: 'all', document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } as PolicyDocument }], resource: guard?.policy },
      );
      expect(decision.decision).toBe('explicit-deny');
    });
  });

  describe('what an ops tool\'s outputs file named', () => {
    it('maps a scratch queue given as the DLQ to the stack\'s DLQ, and leaves the stack\'s own names alone', () => {
      const aliases = outputAliases(resolver, {
        DeadLetterQueueUrl: 'http://sqs.us-east-1.localhost:9/000000000000/scratch-dlq',
        QueueUrl: local[queueId].ref,
      });
      const dlqArn = resolver.getAtt(logicalId(stack.ingestion.deadLetterQueue), 'Arn');
      expect(aliases).toEqual([{ from: 'arn:aws:sqs:us-east-1:000000000000:scratch-dlq', to: dlqArn }]);
      expect(aliasResource('arn:aws:sqs:us-east-1:000000000000:scratch-dlq', aliases)).toBe(dlqArn);
      expect(aliasResource(local[queueId].attributes.Arn, aliases)).toBe(local[queueId].attributes.Arn);
    });

    it('maps a bucket\'s objects with it', () => {
      const aliases = outputAliases(resolver, { ArchiveBucketName: 'elsewhere' });
      const bucketArn = resolver.getAtt(logicalId(stack.ingestion.archiveBucket), 'Arn');
      expect(aliasResource('arn:aws:s3:::elsewhere/raw/a.json', aliases)).toBe(`${bucketArn}/raw/a.json`);
    });
  });
});
