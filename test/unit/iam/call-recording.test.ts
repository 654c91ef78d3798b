/**
 * The shared call recorder and its IAM view: each call attributed to the
 * principal its client was attached with, two recorders on one client both
 * seeing it, the source scan finding every command form.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { CallRecorder } from '../../../local/aws-call-recorder';
import { AccessLog, DEPLOYER, UNATTRIBUTED } from '../../../local/iam/access-log';
import { commandsIn } from '../../../local/iam/sdk-commands';
import { FakeAws } from '../../../local/fake-aws';

// The fake's clients are in us-east-1: a queue URL of that region, as the SDK expects.
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/111122223333/work';

function sqsClient(): SQSClient {
  return new FakeAws({ secret: 'x' }).clients().sqs;
}

describe('call recording', () => {
  it('attributes each call to the principal its client was attached with, and counts repeats once per distinct request', async () => {
    // Prepare
    const receiver = sqsClient();
    const stranger = sqsClient();
    const recorder = new CallRecorder();
    recorder.attach(receiver, { principal: 'webhook-receiver' });
    recorder.attach(stranger);
    const log = new AccessLog('test', '111122223333').listen(recorder);

    // Act
    await receiver.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'a' }));
    await receiver.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'b' }));
    await stranger.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'c' }));

    // Assess
    expect(recorder.records.map((record) => record.principal)).toEqual(['webhook-receiver', 'webhook-receiver', undefined]);
    expect(log.accesses().map(({ principal, action, resource, count }) => ({ principal, action, resource, count }))).toEqual([
      { principal: 'webhook-receiver', action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:111122223333:work', count: 2 },
      { principal: UNATTRIBUTED, action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:111122223333:work', count: 1 },
    ]);
  });

  it('leaves the deployer\'s calls out of the IAM view (CloudFormation creates the resources)', async () => {
    const setup = sqsClient();
    const recorder = new CallRecorder({ keepRecords: false });
    recorder.attach(setup, { principal: DEPLOYER });
    const log = new AccessLog('test', '111122223333').listen(recorder);
    await setup.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'a' }));
    expect(log.accesses()).toEqual([]);
    expect(recorder.records).toEqual([]);
  });

  it('lets two recorders on one client (the bench\'s and the IAM check\'s) both see every call', async () => {
    const client = sqsClient();
    const first = new CallRecorder();
    const second = new CallRecorder();
    first.attach(client, { principal: 'a' });
    second.attach(client, { principal: 'b' });
    await client.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'a' }));
    expect([first.records.length, second.records.length]).toEqual([1, 1]);
    expect(first.records[0]).toMatchObject({ ok: true, command: 'SendMessageCommand', principal: 'a' });
  });

  it('finds commands in source as constructed and as paginated', () => {
    const source = `const a = await c.send(new UpdateItemCommand({}));\nfor await (const p of paginateListObjectsV2({ client }, {})) {}\nnew  PutEventsCommand (x)`;
    expect(commandsIn(source)).toEqual(['ListObjectsV2Command', 'PutEventsCommand', 'UpdateItemCommand']);
  });
});
