/**
 * The console's deployed-stack reads, through the real SDK clients with only
 * the socket replaced: requests built and serialized by the SDK, answers
 * parsed by its deserializers, as the service documents them (CloudWatch Logs
 * FilterLogEvents pages; CloudWatch GetMetricData results per query id).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { OUTCOME_METRICS, cloudWatchCharts, queueNameOf } from '../../../ops/lib/console-metrics';
import { cloudWatchReceiverLogs, localReceiverLogs, receiverFilterPattern } from '../../../ops/lib/receiver-logs';

interface Sent {
  readonly target: string;
  readonly body: Record<string, unknown>;
}

function transport(answer: (target: string, body: Record<string, unknown>) => unknown, sent: Sent[]) {
  return {
    handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
      const target = request.headers['x-amz-target'];
      const body = JSON.parse(typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body as Uint8Array)) as Record<string, unknown>;
      sent.push({ target, body });
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'test' },
          body: new TextEncoder().encode(JSON.stringify(answer(target, body))),
        },
      };
    },
  };
}

const common = { region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } };
const FROM = new Date('2026-11-27T10:00:00.000Z');
const TO = new Date('2026-11-27T10:03:00.000Z');

describe('the console\'s CloudWatch reads', () => {
  describe('receiver log lines (FilterLogEvents)', () => {
    it('pages through the window with the receiver\'s filter and reads each line as an attempt', async () => {
      const sent: Sent[] = [];
      const pages = [
        { events: [{ timestamp: Date.parse('2026-11-27T10:00:01Z'), message: JSON.stringify({ level: 'INFO', message: 'Webhook accepted', timestamp: '2026-11-27T10:00:01.000Z', deliveryId: 'd1', jobId: 'j1' }) }], nextToken: 'page-2' },
        {
          events: [
            { timestamp: Date.parse('2026-11-27T10:00:02Z'), message: JSON.stringify({ message: 'Webhook rejected', reason: 'stale_timestamp', statusCode: 401, deliveryId: 'd2' }) },
            { timestamp: Date.parse('2026-11-27T10:00:03Z'), message: 'START RequestId: x Version: $LATEST' },
          ],
        },
      ];
      const client = new CloudWatchLogsClient({ ...common, requestHandler: transport(() => pages.shift(), sent) as never });

      const read = await cloudWatchReceiverLogs(client, '/aws/lambda/receiver').read({ from: FROM, to: TO });

      expect(read.truncated).toBe(false);
      expect(read.attempts.map((attempt) => [attempt.deliveryId, attempt.outcome, attempt.at])).toEqual([
        ['d2', 'refused', '2026-11-27T10:00:02.000Z'],
        ['d1', 'accepted', '2026-11-27T10:00:01.000Z'],
      ]);
      expect(sent.map((call) => call.target)).toEqual(['Logs_20140328.FilterLogEvents', 'Logs_20140328.FilterLogEvents']);
      expect(sent[0].body).toMatchObject({ logGroupName: '/aws/lambda/receiver', startTime: FROM.getTime(), endTime: TO.getTime() - 1, filterPattern: receiverFilterPattern() });
      expect(sent[1].body).toMatchObject({ nextToken: 'page-2' });
    });

    it('asks for one delivery\'s lines by its id, and refuses anything that is not one', async () => {
      expect(receiverFilterPattern('dlv_1:a.b-c')).toBe('{ $.deliveryId = "dlv_1:a.b-c" }');
      expect(() => receiverFilterPattern('x" || $.level = "INFO')).toThrow(RangeError);
      expect(receiverFilterPattern()).toMatch(/^\{ \(\$\.message = "Webhook accepted"\) \|\| .* \|\| \(\$\.level = "ERROR"\) \}$/);
    });

    it('stops at the page limit and says the read is truncated', async () => {
      const event = { timestamp: Date.parse('2026-11-27T10:00:01Z'), message: JSON.stringify({ message: 'Webhook accepted', deliveryId: 'd' }) };
      const client = new CloudWatchLogsClient({ ...common, requestHandler: transport(() => ({ events: [event], nextToken: 'more' }), []) as never });

      const read = await cloudWatchReceiverLogs(client, 'group').read({ from: FROM, to: TO });

      expect(read.truncated).toBe(true);
      expect(read.attempts).toHaveLength(10);
    });
  });

  describe('the local log file', () => {
    it('reads the attempts of the window, and of one delivery when asked', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'receiver-log-'));
      const file = path.join(dir, 'webhook-receiver.jsonl');
      const line = (at: string, deliveryId: string): string => JSON.stringify({ level: 'INFO', message: 'Webhook accepted', timestamp: at, deliveryId });
      writeFileSync(file, [line('2026-11-27T09:59:59.000Z', 'early'), line('2026-11-27T10:00:00.000Z', 'a'), '{"truncat', line('2026-11-27T10:02:59.999Z', 'b'), line('2026-11-27T10:03:00.000Z', 'late')].join('\n'));
      try {
        const all = await localReceiverLogs(file).read({ from: FROM, to: TO });
        const one = await localReceiverLogs(file).read({ from: FROM, to: TO, deliveryId: 'a' });
        const limited = await localReceiverLogs(file).read({ from: FROM, to: TO, limit: 1 });
        const missing = await localReceiverLogs(path.join(dir, 'none.jsonl')).read({ from: FROM, to: TO });

        expect(all.attempts.map((attempt) => attempt.deliveryId)).toEqual(['b', 'a']);
        expect(one.attempts.map((attempt) => attempt.deliveryId)).toEqual(['a']);
        expect(limited).toMatchObject({ truncated: true, attempts: [expect.objectContaining({ deliveryId: 'b' })] });
        expect(missing).toEqual({ attempts: [], truncated: false });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('chart metrics (GetMetricData)', () => {
    it('sums the receiver\'s metrics into outcomes per minute', async () => {
      const sent: Sent[] = [];
      const minute = (offset: number): number => (FROM.getTime() + offset * 60_000) / 1000;
      const client = new CloudWatchClient({
        ...common,
        requestHandler: transport((_target, body) => {
          const queries = body.MetricDataQueries as Array<{ Id: string; MetricStat: { Metric: { MetricName: string } } }>;
          return {
            MetricDataResults: queries.map((query) => {
              const name = query.MetricStat.Metric.MetricName;
              if (name === 'DeliveryAccepted') return { Id: query.Id, Timestamps: [minute(2), minute(0)], Values: [5, 3], StatusCode: 'Complete' };
              if (name === 'DeliveryTransientFailure') return { Id: query.Id, Timestamps: [minute(1)], Values: [2], StatusCode: 'Complete' };
              if (name === 'SigningSecretUnset') return { Id: query.Id, Timestamps: [minute(1)], Values: [1], StatusCode: 'Complete' };
              return { Id: query.Id, Timestamps: [], Values: [], StatusCode: 'Complete' };
            }),
          };
        }, sent) as never,
      });

      const series = await cloudWatchCharts(client, 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhook-queue').deliveries(FROM, TO);

      expect(series.buckets).toHaveLength(3);
      expect(series.counts.accepted).toEqual([3, 0, 5]);
      expect(series.counts.retryable).toEqual([0, 3, 0]);
      expect(series.counts.refused).toEqual([0, 0, 0]);
      const queries = sent[0].body.MetricDataQueries as Array<{ MetricStat: { Metric: { Namespace: string; Dimensions: unknown }; Period: number; Stat: string } }>;
      expect(queries).toHaveLength(new Set(Object.values(OUTCOME_METRICS).flat()).size);
      expect(queries[0].MetricStat).toMatchObject({ Metric: { Namespace: 'WebhookIngestion', Dimensions: [{ Name: 'service', Value: 'webhook-receiver' }] }, Period: 60, Stat: 'Sum' });
      expect(sent[0].target).toBe('GraniteServiceVersion20100801.GetMetricData');
    });

    it('reads the queue\'s oldest message age by queue name, with no value where SQS reported none', async () => {
      const sent: Sent[] = [];
      const client = new CloudWatchClient({
        ...common,
        requestHandler: transport(() => ({ MetricDataResults: [{ Id: 'age', Timestamps: [(FROM.getTime() + 60_000) / 1000], Values: [42], StatusCode: 'Complete' }] }), sent) as never,
      });

      const series = await cloudWatchCharts(client, 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhook-queue').queueAge(FROM, TO);

      expect(series.oldestAgeSeconds).toEqual([null, 42, null]);
      expect((sent[0].body.MetricDataQueries as unknown[])[0]).toMatchObject({
        MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: 'webhook-queue' }] }, Stat: 'Maximum' },
      });
      expect(queueNameOf('http://sqs.us-east-1.localhost:4566/000000000000/q')).toBe('q');
    });
  });
});
