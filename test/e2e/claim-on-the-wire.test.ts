/**
 * The receiver's claim when DynamoDB's answer is lost on the wire, against
 * DynamoDB Local through a fault proxy, with the receiver's production client
 * settings (1.5 s request timeout, two attempts): the SDK's own retry is
 * inside the test. Before the fix, the retry met the lease its first try had
 * written and the delivery was answered 409, which a strict provider never
 * retries; and when both tries lost their answers the 503 left the lease in
 * place, so the provider's retry got 409 too.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { StaticSecretSource } from '../../lambda/adapters/static-secret-source';
import { ENV } from '../../lambda/core/contract';
import { RECEIVER_CLIENT_CONFIG, createReceiverHandler, receiverDependenciesFromEnv, type ReceiverHandler } from '../../lambda/handlers/receiver';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../ops/lib/clients';
import type { Delivery } from '../../ops/lib/provider';
import { startWireFaultProxy, type WireProxy, type WireRequest } from '../../reliability/lib/wire-proxy';
import { archivedEntriesFor, connect, getDeliveryRecord, signedDelivery, uniqueId, waitForArchiveFlushed, type E2eStack } from './support/stack';

jest.setTimeout(60_000);

describe('a claim whose answer is lost on the wire', () => {
  let stack: E2eStack;
  let proxy: WireProxy;
  let receiver: ReceiverHandler;
  /** Claims (conditional UpdateItems that set a lease) of these delivery ids get their answers held, this many times each. */
  const holdClaims = new Map<string, number>();
  const clients: { destroy(): void }[] = [];

  function isClaim(request: WireRequest): string | undefined {
    if (request.headers['x-amz-target'] !== 'DynamoDB_20120810.UpdateItem') return undefined;
    const input = JSON.parse(request.body.toString('utf8')) as { UpdateExpression?: string; Key?: { deliveryId?: { S?: string } } };
    return input.UpdateExpression?.includes('#lease = :lease') ? input.Key?.deliveryId?.S : undefined;
  }

  beforeAll(async () => {
    stack = connect();
    const endpoints = stack.outputs.Endpoints!;
    proxy = await startWireFaultProxy({
      upstream: endpoints.dynamodb,
      decide: (request) => {
        const deliveryId = isClaim(request);
        const left = deliveryId === undefined ? 0 : (holdClaims.get(deliveryId) ?? 0);
        if (deliveryId === undefined || left === 0) return undefined;
        holdClaims.set(deliveryId, left - 1);
        return 'hold-response';
      },
    });
    const common = { ...RECEIVER_CLIENT_CONFIG.common, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...common, endpoint: proxy.endpoint });
    const s3 = new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true });
    const sqs = new SQSClient({ ...common, ...RECEIVER_CLIENT_CONFIG.sqs, endpoint: endpoints.sqs });
    clients.push(dynamodb, s3, sqs);
    receiver = createReceiverHandler(
      receiverDependenciesFromEnv(
        {
          [ENV.deliveriesTable]: stack.outputs.DeliveriesTableName,
          [ENV.archiveBucket]: stack.outputs.ArchiveBucketName,
          [ENV.queueUrl]: stack.outputs.QueueUrl,
        },
        { secrets: new StaticSecretSource(stack.context.signingSecret), dynamodb, s3, sqs },
      ),
    );
  });

  afterAll(async () => {
    clients.forEach((client) => client.destroy());
    await proxy.stop();
    stack.clients.destroy();
  });

  async function deliver(delivery: Delivery): Promise<APIGatewayProxyStructuredResultV2> {
    const event = {
      version: '2.0',
      headers: Object.fromEntries(Object.entries(delivery.headers).map(([name, value]) => [name.toLowerCase(), value])),
      body: typeof delivery.body === 'string' ? delivery.body : Buffer.from(delivery.body).toString('utf8'),
      isBase64Encoded: false,
      requestContext: { http: { sourceIp: '127.0.0.1' } },
    } as unknown as APIGatewayProxyEventV2;
    return (await receiver(event)) as APIGatewayProxyStructuredResultV2;
  }

  it('is accepted when the SDK retry meets the lease its own first try wrote', async () => {
    // Prepare: DynamoDB applies the first claim; its answer is held past the 1.5 s client timeout.
    const delivery = signedDelivery(stack, 'job.started', { jobId: uniqueId('job_wire') });
    holdClaims.set(delivery.deliveryId, 1);

    // Act
    const answer = await deliver(delivery);

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(proxy.counts()['hold-response']).toBeGreaterThanOrEqual(1);
    expect(await getDeliveryRecord(stack, delivery.deliveryId)).toMatchObject({ status: 'accepted' });
    await waitForArchiveFlushed(stack);
    expect(await archivedEntriesFor(stack, delivery.deliveryId)).toHaveLength(1);
  });

  it('answers 503 and gives the lease back when both tries lose their answers, so the provider retry is accepted at once', async () => {
    // Prepare: both SDK attempts of the first claim are applied and unanswered.
    const delivery = signedDelivery(stack, 'job.started', { jobId: uniqueId('job_wire') });
    holdClaims.set(delivery.deliveryId, 2);

    // Act
    const first = await deliver(delivery);
    const retry = await deliver(delivery);

    // Assess
    expect(first.statusCode).toBe(503);
    expect(retry.statusCode).toBe(202);
    expect(await getDeliveryRecord(stack, delivery.deliveryId)).toMatchObject({ status: 'accepted' });
  });
});
