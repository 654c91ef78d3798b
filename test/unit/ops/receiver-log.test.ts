/**
 * The console reads each delivery attempt's outcome from the receiver's log
 * lines. These tests drive the real receiver core through every answer, with
 * its logger tee'd into a log file as the local stack does (local/handler-log.ts),
 * and classify what it wrote: a renamed message or a dropped key fails here.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { emfLine } from '../../../lambda/adapters/emf-line';
import { StackMetrics } from '../../../lambda/adapters/observability';
import { powertoolsMetrics } from '../../../lambda/adapters/powertools-ports';
import { teeInvocationLogger, type HandlerLogFile } from '../../../local/handler-log';
import { attemptsFrom, classifyReceiverLine, countOutcomes, parseLogLine, type ReceiverAttempt } from '../../../ops/lib/receiver-log';
import { NOW, deliveryEvent, receiverTestbed, type Testbed } from '../receiver/support/factories';

interface Bed {
  readonly lines: Record<string, unknown>[];
  readonly archive: Testbed['archive'];
  readonly deliveries: Testbed['deliveries'];
  readonly secrets: Testbed['secrets'];
  send(event: APIGatewayProxyEventV2): Promise<number>;
  attempts(): ReceiverAttempt[];
}

/** The receiver's metrics with Powertools' metrics switched off, as `npm start` runs them. */
function localMetrics(): StackMetrics {
  const before = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return new StackMetrics('webhook-receiver');
  } finally {
    if (before === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = before;
  }
}

/** The real receiver over in-memory ports, its logger tee'd into an in-memory log file as the local stack does. */
function bed(): Bed {
  const lines: Record<string, unknown>[] = [];
  const file: HandlerLogFile = { file: 'memory', write: (line) => lines.push(JSON.parse(JSON.stringify(line)) as Record<string, unknown>), close: async () => undefined };
  const testbed = receiverTestbed({
    logger: (capturing) => teeInvocationLogger(capturing, file, 'webhook-receiver', () => NOW),
    // The real metrics adapter as the local stack runs it (Powertools metrics off): the accepted line, written
    // with its metrics when they publish, goes through the logger.
    metrics: (logger) => powertoolsMetrics(localMetrics(), logger),
  });
  let requests = 0;
  return {
    lines,
    archive: testbed.archive,
    deliveries: testbed.deliveries,
    secrets: testbed.secrets,
    send: async (event) => {
      requests += 1;
      const result = await testbed.handle(event, { awsRequestId: `request-${requests}` } as never);
      return typeof result === 'string' ? 0 : (result.statusCode ?? 0);
    },
    attempts: () => attemptsFrom(lines.map((line) => ({ line }))),
  };
}

describe('receiver log lines as delivery attempts', () => {
  describe('from the real receiver, one attempt per answer', () => {
    it('reads an accepted delivery as accepted 202, with its job id', async () => {
      const receiver = bed();

      const status = await receiver.send(deliveryEvent({ deliveryId: 'dlv_ok' }));

      expect(status).toBe(202);
      expect(receiver.attempts()).toEqual([
        expect.objectContaining({ outcome: 'accepted', statusCode: 202, deliveryId: 'dlv_ok', event: 'job.completed', jobId: 'job_8f3a', requestId: 'request-1' }),
      ]);
    });

    it('reads a retry of an accepted delivery as duplicate 200', async () => {
      const receiver = bed();
      await receiver.send(deliveryEvent({ deliveryId: 'dlv_twice' }));

      const status = await receiver.send(deliveryEvent({ deliveryId: 'dlv_twice' }));

      expect(status).toBe(200);
      expect(receiver.attempts().map((attempt) => [attempt.outcome, attempt.statusCode])).toEqual([
        ['accepted', 202],
        ['duplicate', 200],
      ]);
    });

    it.each([
      ['a stale timestamp', { timestamp: '2020-01-01T00:00:00.000Z' }, 401, 'stale_timestamp'],
      ['a forged signature', { secret: 'not-the-secret' }, 401, 'invalid_signature'],
      ['no signature', { signature: null }, 401, 'missing_signature'],
      ['a body that is not JSON', { body: 'not json' }, 400, 'invalid_json'],
      ['a bad delivery id', { deliveryId: 'has spaces' }, 400, 'invalid_delivery_id'],
    ] as const)('reads %s as refused with the receiver\'s status and reason', async (_case, options, status, reason) => {
      const receiver = bed();

      const answered = await receiver.send(deliveryEvent(options));

      expect(answered).toBe(status);
      expect(receiver.attempts()).toEqual([expect.objectContaining({ outcome: 'refused', statusCode: status, reason })]);
    });

    it('reads an unset signing secret as retryable 503', async () => {
      const receiver = bed();
      receiver.secrets.secrets = { current: { value: '{"unset":true,"key":"x"}', createdAt: new Date('2026-01-01T00:00:00Z') } };

      const status = await receiver.send(deliveryEvent({ deliveryId: 'dlv_unset' }));

      expect(status).toBe(503);
      expect(receiver.attempts()).toEqual([expect.objectContaining({ outcome: 'retryable', statusCode: 503, deliveryId: 'dlv_unset' })]);
    });

    it('reads an attempt that met another one\'s live lease as retryable 503 in_progress', async () => {
      const receiver = bed();
      const event = deliveryEvent({ deliveryId: 'dlv_leased' });
      await receiver.send(event);
      const record = receiver.deliveries.records.get('dlv_leased');
      receiver.deliveries.records.set('dlv_leased', { ...(record as NonNullable<typeof record>), status: 'in_progress', attemptId: 'another', leaseExpiresAt: NOW.getTime() + 10_000 });

      const status = await receiver.send(event);

      expect(status).toBe(503);
      expect(receiver.attempts()[1]).toMatchObject({ outcome: 'retryable', statusCode: 503, reason: 'in_progress', deliveryId: 'dlv_leased' });
    });

    it('reads an archive failure as one retryable attempt, however many lines it logged', async () => {
      const receiver = bed();
      receiver.archive.failNext();

      const status = await receiver.send(deliveryEvent({ deliveryId: 'dlv_archive' }));

      expect(status).toBe(503);
      expect(receiver.lines.filter((line) => line.level === 'ERROR').length).toBeGreaterThanOrEqual(1);
      expect(receiver.attempts()).toEqual([expect.objectContaining({ outcome: 'retryable', statusCode: 503, deliveryId: 'dlv_archive', reason: 'Archive failed' })]);
    });

    it('writes the lines with the keys Powertools writes, and never the signature value', async () => {
      const receiver = bed();
      const event = deliveryEvent({ deliveryId: 'dlv_keys' });

      await receiver.send(event);

      expect(receiver.lines[0]).toMatchObject({ level: 'INFO', message: 'Webhook accepted', timestamp: NOW.toISOString(), service: 'webhook-receiver', correlation_id: 'dlv_keys', function_request_id: 'request-1' });
      expect(JSON.stringify(receiver.lines)).not.toContain(event.headers?.['x-webhook-signature']?.slice('sha256='.length));
    });
  });

  describe('classifyReceiverLine', () => {
    it('ignores lines that end no attempt: warnings, notes, other messages', () => {
      expect(classifyReceiverLine({ level: 'WARN', message: 'Signature verification is disabled: accepting unsigned deliveries', timestamp: NOW.toISOString() })).toBeUndefined();
      expect(classifyReceiverLine({ level: 'INFO', message: 'Signature matched the previous secret version', timestamp: NOW.toISOString() })).toBeUndefined();
      expect(classifyReceiverLine({ level: 'INFO', timestamp: NOW.toISOString() })).toBeUndefined();
    });

    it('takes the instant the source recorded when the line has none (an EMF line read from CloudWatch)', () => {
      const attempt = classifyReceiverLine({ message: 'Webhook accepted', deliveryId: 'd' }, Date.parse('2026-11-27T10:00:01.000Z'));

      expect(attempt).toMatchObject({ at: '2026-11-27T10:00:01.000Z', outcome: 'accepted' });
      expect(classifyReceiverLine({ message: 'Webhook accepted' })).toBeUndefined();
    });

    it('reads the deployed receiver\'s accepted line, the EMF line that also carries its metrics, at CloudWatch\'s event time', () => {
      // Prepare: the line exactly as the receiver writes it when its metrics publish (lambda/adapters/emf-line.ts).
      const written = emfLine({
        namespace: 'WebhookIngestion',
        service: 'webhook-receiver',
        counts: new Map([['DeliveryAccepted', 1]]),
        message: 'Webhook accepted',
        attributes: { deliveryId: 'dlv_emf', event: 'job.started', jobId: 'job_emf', archive: 'batch', bodyBytes: 310 },
        requestId: 'request-emf',
      });

      // Act
      const attempt = classifyReceiverLine(parseLogLine(written)!, Date.parse('2026-11-27T10:00:02.000Z'));

      // Assess
      expect(attempt).toMatchObject({ at: '2026-11-27T10:00:02.000Z', outcome: 'accepted', statusCode: 202, deliveryId: 'dlv_emf', jobId: 'job_emf', bodyBytes: 310, requestId: 'request-emf' });
    });

    it('reads a rejection with a 5xx status or a retryable reason as retryable', () => {
      const at = NOW.toISOString();

      expect(classifyReceiverLine({ message: 'Webhook rejected', reason: 'in_progress', statusCode: 503, timestamp: at })).toMatchObject({ outcome: 'retryable', statusCode: 503 });
      expect(classifyReceiverLine({ message: 'Webhook rejected', reason: 'in_progress', timestamp: at })).toMatchObject({ outcome: 'retryable', statusCode: 503 });
      expect(classifyReceiverLine({ message: 'Delivery in progress in another attempt', timestamp: at })).toMatchObject({ outcome: 'retryable', reason: 'in_progress' });
      expect(classifyReceiverLine({ message: 'Webhook rejected', reason: 'conflict', statusCode: 409, timestamp: at })).toMatchObject({ outcome: 'refused', statusCode: 409 });
    });
  });

  describe('attemptsFrom', () => {
    it('lists the newest first and counts each outcome', () => {
      const attempts = attemptsFrom([
        { line: { message: 'Webhook accepted', timestamp: '2026-11-27T10:00:00.000Z' } },
        { line: { message: 'Webhook rejected', reason: 'stale_timestamp', statusCode: 401, timestamp: '2026-11-27T10:00:02.000Z' } },
        { line: { message: 'Duplicate delivery ignored', timestamp: '2026-11-27T10:00:01.000Z' } },
      ]);

      expect(attempts.map((attempt) => attempt.outcome)).toEqual(['refused', 'duplicate', 'accepted']);
      expect(countOutcomes(attempts)).toEqual({ accepted: 1, duplicate: 1, refused: 1, retryable: 0 });
    });
  });

  describe('parseLogLine', () => {
    it('parses a JSON object line and skips anything else', () => {
      expect(parseLogLine(' {"message":"x"} ')).toEqual({ message: 'x' });
      expect(parseLogLine('START RequestId: 1 Version: $LATEST')).toBeUndefined();
      expect(parseLogLine('{"message":')).toBeUndefined();
      expect(parseLogLine('[1,2]')).toBeUndefined();
    });
  });
});
