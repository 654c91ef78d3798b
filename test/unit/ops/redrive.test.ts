import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SQSClient,
  SQSServiceException,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { UsageError } from '../../../ops/lib/cli-usage';
import { DEFAULT_WAIT_SECONDS, parseRedriveArgs } from '../../../ops/lib/redrive-args';
import { isMoveTaskUnsupported, redrive, siblingQueueArn } from '../../../ops/lib/redrive-run';

const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/queue';
const DLQ_ARN = 'arn:aws:sqs:eu-west-1:123456789012:dlq';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:queue';

const sqsMock = mockClient(SQSClient);
const client = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

function serviceError(name: string, status = 400): SQSServiceException {
  return new SQSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: `${name} happened` });
}

function message(id: string): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: `{"deliveryId":"${id}"}`,
    MessageAttributes: { event: { DataType: 'String', StringValue: 'job.completed' }, deliveryId: { DataType: 'String', StringValue: id } },
  };
}

function arns(): void {
  sqsMock.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves({ Attributes: { QueueArn: DLQ_ARN } });
}

const base = { sqs: client, deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, sleep: async () => undefined };

beforeEach(() => sqsMock.reset());

describe('redrive', () => {
  describe('where SQS move tasks exist', () => {
    it('starts one from the DLQ to the main queue and follows it to completion', async () => {
      // Prepare
      arns();
      sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
      sqsMock
        .on(ListMessageMoveTasksCommand)
        .resolvesOnce({ Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 }] })
        .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 }] });

      // Act
      const result = await redrive(base);

      // Assess
      expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0].args[0].input).toEqual({ SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN });
      expect(result).toEqual({ method: 'move-task', moved: 3, failed: 0, taskStatus: 'COMPLETED', taskHandle: 'task-1', failureReason: undefined });
      expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    });

    it('reads only the DLQ\'s attributes: the work queue\'s ARN comes from its URL (grantRedrive allows nothing on it but SendMessage)', async () => {
      // Prepare
      arns();
      sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
      sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED' }] });

      // Act
      await redrive(base);

      // Assess
      expect(sqsMock.commandCalls(GetQueueAttributesCommand).map((call) => call.args[0].input.QueueUrl)).toEqual([DLQ_URL]);
    });

    it('reports a failed task with what it did not move', async () => {
      arns();
      sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
      sqsMock.on(ListMessageMoveTasksCommand).resolves({
        Results: [{ Status: 'FAILED', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 4, FailureReason: 'AccessDenied' }],
      });
      expect(await redrive(base)).toMatchObject({ method: 'move-task', moved: 1, failed: 3, taskStatus: 'FAILED', failureReason: 'AccessDenied' });
    });

    it('stops following a long task at the deadline and leaves it running', async () => {
      arns();
      let clock = 0;
      sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
      sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 5 }] });
      const result = await redrive({ ...base, waitSeconds: 10, now: () => clock, sleep: async () => void (clock += 4000) });
      expect(result).toMatchObject({ method: 'move-task', moved: 5, failed: 0, taskStatus: 'RUNNING' });
    });

    it('rethrows real failures instead of falling back', async () => {
      arns();
      sqsMock.on(StartMessageMoveTaskCommand).rejects(serviceError('AccessDenied', 403));
      await expect(redrive(base)).rejects.toThrow('AccessDenied happened');
      expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    });
  });

  describe('where move tasks are not implemented (the local emulator)', () => {
    it('falls back to receive, send the same body and attributes, then delete', async () => {
      // Prepare
      arns();
      sqsMock.on(StartMessageMoveTaskCommand).rejects(serviceError('InvalidAction'));
      sqsMock
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [message('a'), message('b')] })
        .resolves({ Messages: [] });
      sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: 'm0', MessageId: 'n0', MD5OfMessageBody: '' }, { Id: 'm1', MessageId: 'n1', MD5OfMessageBody: '' }], Failed: [] });
      sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: 'm0' }, { Id: 'm1' }], Failed: [] });
      const lines: string[] = [];

      // Act
      const result = await redrive({ ...base, log: (line) => lines.push(line) });

      // Assess
      expect(result).toMatchObject({ method: 'loop', moved: 2, failed: 0 });
      expect(result.fallbackReason).toMatch(/^StartMessageMoveTask not supported here \(InvalidAction/);
      const sent = sqsMock.commandCalls(SendMessageBatchCommand)[0].args[0].input;
      expect(sent.QueueUrl).toBe(QUEUE_URL);
      expect(sent.Entries).toEqual([
        { Id: 'm0', MessageBody: message('a').Body, MessageAttributes: message('a').MessageAttributes },
        { Id: 'm1', MessageBody: message('b').Body, MessageAttributes: message('b').MessageAttributes },
      ]);
      expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0].args[0].input).toEqual({
        QueueUrl: DLQ_URL,
        Entries: [
          { Id: 'm0', ReceiptHandle: 'rh-a' },
          { Id: 'm1', ReceiptHandle: 'rh-b' },
        ],
      });
      expect(sqsMock.commandCalls(ReceiveMessageCommand)[0].args[0].input).toMatchObject({ QueueUrl: DLQ_URL, MessageAttributeNames: ['All'] });
      expect(lines[0]).toMatch(/moving by receive, send, delete$/);
    });

    it('waits for messages a lost receive left in flight in the DLQ, and moves them once they reappear', async () => {
      // Prepare: the first receive was applied but its answer lost (the SDK's retry found the queue empty).
      sqsMock.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL, AttributeNames: ['QueueArn'] }).resolves({ Attributes: { QueueArn: DLQ_ARN } });
      sqsMock
        .on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] })
        .resolvesOnce({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' } })
        .resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
      sqsMock.on(StartMessageMoveTaskCommand).rejects(serviceError('InvalidAction'));
      sqsMock
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [] })
        .resolvesOnce({ Messages: [] })
        .resolvesOnce({ Messages: [message('a')] })
        .resolves({ Messages: [] });
      sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: 'm0', MessageId: 'n0', MD5OfMessageBody: '' }], Failed: [] });
      sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: 'm0' }], Failed: [] });
      const lines: string[] = [];

      // Act
      const result = await redrive({ ...base, log: (line) => lines.push(line) });

      // Assess
      expect(result).toMatchObject({ method: 'loop', moved: 1, failed: 0 });
      expect(lines).toContain('1 message(s) in flight in the DLQ (a receive whose answer was lost): waiting for them to reappear');
    });

    it('keeps a message whose copy failed in the DLQ, counts it once and stops', async () => {
      // Prepare: the failed message reappears after its visibility timeout.
      arns();
      sqsMock.on(StartMessageMoveTaskCommand).rejects(serviceError('InvalidAction'));
      sqsMock
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [message('a'), message('b')] })
        .resolves({ Messages: [message('b')] });
      sqsMock.on(SendMessageBatchCommand).resolves({
        Successful: [{ Id: 'm0', MessageId: 'n0', MD5OfMessageBody: '' }],
        Failed: [{ Id: 'm1', Code: 'InternalError', SenderFault: false }],
      });
      sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: 'm0' }], Failed: [] });

      // Act
      const result = await redrive(base);

      // Assess
      expect(result).toMatchObject({ method: 'loop', moved: 1, failed: 1 });
      expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0].args[0].input.Entries).toEqual([{ Id: 'm0', ReceiptHandle: 'rh-a' }]);
    });
  });

  describe('with --max', () => {
    it('uses the loop and moves no more than asked', async () => {
      sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages: number }) => ({
        Messages: Array.from({ length: input.MaxNumberOfMessages }, (_, index) => message(`x${index}-${Math.random()}`)),
      }));
      sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
        Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: entry.Id, MD5OfMessageBody: '' })),
        Failed: [],
      }));
      sqsMock.on(DeleteMessageBatchCommand).resolves({ Failed: [] });

      const result = await redrive({ ...base, max: 13 });

      expect(result).toMatchObject({ method: 'loop', moved: 13, failed: 0, fallbackReason: '--max limits the count' });
      expect(sqsMock.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input.MaxNumberOfMessages)).toEqual([10, 3]);
      expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    });
  });

  describe('isMoveTaskUnsupported', () => {
    it.each([
      ['InvalidAction', 400, true],
      ['UnsupportedOperation', 400, true],
      ['UnknownError', 501, true],
      ['AccessDenied', 403, false],
      ['QueueDoesNotExist', 400, false],
    ])('%s (%i) -> %s', (name, status, expected) => {
      expect(isMoveTaskUnsupported(serviceError(name, status))).toBe(expected);
    });
  });
});

describe('redrive arguments', () => {
  it('default to following a move task', () => {
    expect(parseRedriveArgs([])).toMatchObject({ help: false, max: undefined, loop: false, waitSeconds: DEFAULT_WAIT_SECONDS });
  });

  it.each([
    [['--max', '0'], /^--max must be a positive integer, got "0"$/],
    [['--max', '2.5'], /^--max must be a positive integer/],
    [['--wait', 'soon'], /^--wait must be a positive integer/],
    [['--all'], /^unknown option --all$/],
    [['now'], /^unexpected argument now$/],
  ])('refuse %j in one line', (argv, expected) => {
    expect(() => parseRedriveArgs(argv)).toThrow(UsageError);
    expect(() => parseRedriveArgs(argv)).toThrow(expected);
  });
});

describe('siblingQueueArn', () => {
  it('is the DLQ\'s ARN with the work queue\'s name', () => {
    expect(siblingQueueArn(DLQ_ARN, QUEUE_URL)).toBe(QUEUE_ARN);
  });

  it('keeps the partition and region of the DLQ, and reads an emulator\'s URL of the same path shape', () => {
    expect(siblingQueueArn('arn:aws-cn:sqs:cn-north-1:000000000000:dlq', 'http://sqs.cn-north-1.localhost:4566/000000000000/work')).toBe(
      'arn:aws-cn:sqs:cn-north-1:000000000000:work',
    );
  });

  it('refuses queues of another account, which it cannot name', () => {
    expect(() => siblingQueueArn(DLQ_ARN, 'https://sqs.eu-west-1.amazonaws.com/999999999999/queue')).toThrow(/account 999999999999.*--loop/);
  });

  it('refuses what is not a queue ARN or URL', () => {
    expect(() => siblingQueueArn('arn:aws:sns:eu-west-1:123456789012:topic', QUEUE_URL)).toThrow(/not an SQS queue ARN/);
    expect(() => siblingQueueArn(DLQ_ARN, 'not a url')).toThrow(/not an SQS queue URL/);
  });
});
