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
    ['receiver', RECEIVER_TIMEOUTS, DEFAULTS.receiverTimeoutSeconds],
    ['worker', WORKER_TIMEOUTS, DEFAULTS.workerTimeoutSeconds],
  ])('keep one hung dependency of the %s well inside its Lambda timeout', (_name, timeouts, lambdaTimeoutSeconds) => {
    // Room is left for the other rounds and for answering (the receiver's release and 503).
    const worstCaseMs = timeouts.maxAttempts * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs);
    expect(worstCaseMs).toBeLessThanOrEqual(lambdaTimeoutSeconds * 1000 * 0.6);
  });
});
