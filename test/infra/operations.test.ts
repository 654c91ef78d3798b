import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { METRIC, METRICS_NAMESPACE } from '../../lambda/core/contract';
import { JobWorker } from '../../lib/job-worker';
import { Operations } from '../../lib/operations';
import { WebhookIngestion } from '../../lib/webhook-ingestion';
import { type CfnJson, type Synthesized, logicalId, synthesize, projectApp } from './support/synth';

let synth: Synthesized;
let topicId: string;

beforeAll(() => {
  synth = synthesize({ alarmEmail: 'ops@example.com' }, { bundle: false });
  topicId = logicalId(synth.stack.operations.alarmTopic as sns.Topic);
});

function alarmProps(alarm: { node: { defaultChild?: unknown } }): CfnJson {
  return synth.template.findResources('AWS::CloudWatch::Alarm')[logicalId(alarm)].Properties;
}

describe('Operations', () => {
  describe('the alarm topic', () => {
    it('is encrypted with its own rotating KMS key', () => {
      const keyId = logicalId(synth.stack.operations.alarmTopicKey!);
      synth.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      synth.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('lets CloudWatch use the key, so alarms can publish to the encrypted topic', () => {
      synth.template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
    });

    it('refuses publishing without TLS', () => {
      synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topicId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('mails the alarm address given in the props', () => {
      synth.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: topicId },
      });
    });
  });

  describe('the alarms', () => {
    it('each notify the alarm topic', () => {
      const alarms = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(
        Object.keys(synth.stack.operations.alarms).length + Object.keys(synth.stack.reconciler!.alarms).length + Object.keys(synth.stack.jobEvents!.alarms).length,
      );
      for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    });

    it('treat missing data as healthy, so a quiet endpoint never pages', () => {
      const alarms = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'));
      for (const alarm of alarms) expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    });

    it('page on a non-empty dead-letter queue', () => {
      expect(alarmProps(synth.stack.operations.alarms.deadLetterQueueNotEmpty as never)).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
      });
    });

    it('page on API 5xx answers and on receiver and worker errors', () => {
      const { alarms } = synth.stack.operations;
      expect(alarmProps(alarms.apiServerErrors)).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx' });
      expect(alarmProps(alarms.receiverErrors)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(synth.stack.ingestion.receiver) } }],
      });
      expect(alarmProps(alarms.workerErrors)).toMatchObject({
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(synth.stack.worker.worker) } }],
      });
    });

    it('page when the oldest queued message gets old', () => {
      expect(alarmProps(synth.stack.operations.alarms.oldestMessageAge)).toMatchObject({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Statistic: 'Maximum',
        Threshold: 600,
      });
    });

    it("page on a spike of invalid signatures, on the receiver's own metric", () => {
      expect(alarmProps(synth.stack.operations.alarms.signatureFailureSpike)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.signatureInvalid,
        Dimensions: [{ Name: 'service', Value: 'webhook-receiver' }],
        Statistic: 'Sum',
        Threshold: 10,
      });
    });

    it('page on a delivery conflict and on a run of deliveries in progress, on the receiver\'s own metrics', () => {
      const { alarms } = synth.stack.operations;
      expect(alarmProps(alarms.deliveryConflict)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.conflict,
        Dimensions: [{ Name: 'service', Value: 'webhook-receiver' }],
        Statistic: 'Sum',
        Threshold: 1,
      });
      expect(alarmProps(alarms.deliveryInProgress)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.inProgress,
        Dimensions: [{ Name: 'service', Value: 'webhook-receiver' }],
        Threshold: 10,
      });
    });

    it('page on any API 429, counted from the JSON access log (HTTP APIs have no 429 metric)', () => {
      synth.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logicalId(synth.stack.ingestion.accessLogGroup) },
        FilterPattern: '{ $.status = "429" }',
        MetricTransformations: [{ MetricNamespace: METRICS_NAMESPACE, MetricName: METRIC.apiThrottled, MetricValue: '1' }],
      });
      expect(alarmProps(synth.stack.operations.alarms.apiThrottled)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.apiThrottled,
        Statistic: 'Sum',
        Threshold: 1,
      });
    });

    it("page when Firehose holds archive records unwritten for 15 minutes (it keeps them 24 h)", () => {
      expect(alarmProps(synth.stack.operations.alarms.archiveDeliveryLag!)).toMatchObject({
        Namespace: 'AWS/Firehose',
        MetricName: 'DeliveryToS3.DataFreshness',
        Dimensions: [{ Name: 'DeliveryStreamName', Value: { Ref: logicalId(synth.stack.ingestion.archiveStream as never) } }],
        Statistic: 'Maximum',
        Threshold: 900,
        TreatMissingData: 'notBreaching',
      });
    });

    it('page as soon as the receiver reports the secret unset', () => {
      expect(alarmProps(synth.stack.operations.alarms.signingSecretUnset)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.secretUnset,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });
  });

  describe('the dashboard', () => {
    /** `namespace/metricName` of every graphed metric, read from the rendered dashboard body. */
    let graphed: string[];
    let body: string;
    beforeAll(() => {
      const dashboard = Object.values(synth.template.findResources('AWS::CloudWatch::Dashboard'))[0];
      const [, parts] = dashboard.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
      // References (API id, queue names, regions) become placeholders; the rest is the JSON CloudWatch gets.
      body = parts.map((part) => (typeof part === 'string' ? part : 'REF')).join('');
      const widgets = (JSON.parse(body) as { widgets: { properties: { metrics?: string[][] } }[] }).widgets;
      graphed = widgets.flatMap((w) => w.properties.metrics ?? []).map(([namespace, name]) => `${namespace}/${name}`);
    });

    it('shows API requests, 4xx and 5xx', () => {
      expect(graphed).toEqual(expect.arrayContaining(['AWS/ApiGateway/Count', 'AWS/ApiGateway/4xx', 'AWS/ApiGateway/5xx']));
    });

    it('shows every delivery outcome and job event count', () => {
      const custom = [
        METRIC.accepted,
        METRIC.duplicate,
        METRIC.rejected,
        METRIC.conflict,
        METRIC.applied,
        METRIC.staleIgnored,
        METRIC.terminalConflict,
      ].map((name) => `${METRICS_NAMESPACE}/${name}`);
      expect(graphed).toEqual(expect.arrayContaining(custom));
    });

    it('shows queue depth and age, DLQ depth, worker errors and duration', () => {
      expect(graphed).toEqual(
        expect.arrayContaining([
          'AWS/SQS/ApproximateNumberOfMessagesVisible',
          'AWS/SQS/ApproximateAgeOfOldestMessage',
          'AWS/Lambda/Errors',
          'AWS/Lambda/Duration',
        ]),
      );
      expect(body).toContain('Dead-letter queue depth');
    });

    it("shows the archive stream's records in, records written, throttling and freshness", () => {
      expect(graphed).toEqual(
        expect.arrayContaining(['AWS/Firehose/IncomingRecords', 'AWS/Firehose/DeliveryToS3.Records', 'AWS/Firehose/ThrottledRecords', 'AWS/Firehose/DeliveryToS3.DataFreshness']),
      );
    });

    it('shows the state of every alarm', () => {
      expect(body).toContain('"type":"alarm"');
    });
  });
});

describe('Operations with an existing topic', () => {
  it('creates no topic or key and sends every alarm to the given topic', () => {
    const stack = new Stack(projectApp({ bundle: false }), 'Existing');
    const ingestion = new WebhookIngestion(stack, 'Ingestion');
    const worker = new JobWorker(stack, 'Worker', {
      queue: ingestion.queue,
      deadLetterQueue: ingestion.deadLetterQueue,
      archiveBucket: ingestion.archiveBucket,
    });
    const topicArn = 'arn:aws:sns:eu-west-1:111122223333:ops-alarms';
    new Operations(stack, 'Operations', {
      ingestion,
      worker,
      existingAlarmTopicObj: sns.Topic.fromTopicArn(stack, 'OpsTopic', topicArn),
    });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
    }
  });
});
