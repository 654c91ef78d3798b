/**
 * A hung dependency fails the call instead of holding the Lambda until its own
 * timeout: the SDK client gives up after the configured attempts.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientOptions, RECEIVER_TIMEOUTS, WORKER_TIMEOUTS } from '../../../lambda/adapters/client-config';
import { DEFAULTS } from '../../../lambda/core/contract';

describe('Lambda SDK client options', () => {
  let server: Server;
  let endpoint: string;
  let requestsSeen = 0;

  beforeAll(async () => {
    // Accepts every request and never answers.
    server = createServer(() => {
      requestsSeen += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fail a call to a dependency that never answers, after the configured attempts', async () => {
    // Prepare
    const client = new DynamoDBClient({
      ...clientOptions({ connectionTimeoutMs: 200, requestTimeoutMs: 200, maxAttempts: 2 }),
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    requestsSeen = 0;

    // Act
    const call = client.send(new GetItemCommand({ TableName: 'jobs', Key: { jobId: { S: 'job_1' } } }));

    // Assess
    await expect(call).rejects.toThrow(/timeout/i);
    expect(requestsSeen).toBe(2);
    client.destroy();
  });

  it.each([
    // The receiver: two hung rounds of its three must still leave time to answer 503.
    ['receiver', RECEIVER_TIMEOUTS, 2, DEFAULTS.receiverTimeoutSeconds],
    // The worker: a record's three calls in a row, all hung, must fail before the batch times out.
    ['worker', WORKER_TIMEOUTS, 3, DEFAULTS.workerTimeoutSeconds],
  ])('let the %s fail hung calls inside its Lambda timeout', (_name, timeouts, hungCallsInARow, lambdaTimeoutSeconds) => {
    const perCallMs = timeouts.maxAttempts * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs);
    expect(hungCallsInARow * perCallMs).toBeLessThan(lambdaTimeoutSeconds * 1000);
  });
});
