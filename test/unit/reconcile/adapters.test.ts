import { ConditionalCheckFailedException, DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ApiKeyUnavailableError, SecretsManagerApiKeySource } from '../../../lambda/adapters/api-key-source';
import { DynamoOpenJobs } from '../../../lambda/adapters/dynamo-open-jobs';
import { HttpProviderJobApi, jobUrl, providerOrigin, type FetchLike } from '../../../lambda/adapters/provider-job-api';
import { OPEN_JOBS_INDEX } from '../../../lambda/core/contract';

const KEY = 'pk_live_do_not_leak_0123456789';

function fakeFetch(respond: (url: string) => Response | Promise<Response>): { fetch: FetchLike; calls: { url: string; headers: Record<string, string>; redirect: string }[] } {
  const calls: { url: string; headers: Record<string, string>; redirect: string }[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      calls.push({ url, headers: init.headers, redirect: init.redirect });
      return respond(url);
    },
  };
}

describe('the provider job API adapter', () => {
  it('calls only the configured origin, with the job id URL-encoded, the key in its header and redirects not followed', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(() => new Response('{"id":"x","status":"processing"}', { status: 200 }));
    const api = new HttpProviderJobApi({ baseUrl: 'https://api.removebgvideo.com', apiKey: async () => KEY, fetch });

    // Act
    const lookup = await api.getJob('../../admin?x=1#frag');

    // Assess
    expect(lookup).toEqual({ kind: 'answer', text: '{"id":"x","status":"processing"}' });
    expect(calls).toEqual([
      { url: 'https://api.removebgvideo.com/v1/jobs/..%2F..%2Fadmin%3Fx%3D1%23frag', headers: { 'x-api-key': KEY, accept: 'application/json' }, redirect: 'manual' },
    ]);
  });

  it.each([
    [404, { kind: 'not_found' }],
    [401, { kind: 'refused', status: 401 }],
    [403, { kind: 'refused', status: 403 }],
    [500, { kind: 'unavailable', detail: 'HTTP 500' }],
    [503, { kind: 'unavailable', detail: 'HTTP 503' }],
    [302, { kind: 'unexpected', detail: 'HTTP 302' }],
    [400, { kind: 'unexpected', detail: 'HTTP 400' }],
  ])('maps HTTP %s without throwing', async (status, expected) => {
    const { fetch } = fakeFetch(() => new Response(status === 302 ? null : 'x', { status, headers: status === 302 ? { location: 'https://evil.example/' } : {} }));
    expect(await new HttpProviderJobApi({ baseUrl: 'https://api.removebgvideo.com', apiKey: async () => KEY, fetch }).getJob('j')).toEqual(expected);
  });

  it('reads Retry-After on a 429', async () => {
    const { fetch } = fakeFetch(() => new Response('slow down', { status: 429, headers: { 'retry-after': '7' } }));
    expect(await new HttpProviderJobApi({ baseUrl: 'https://api.removebgvideo.com', apiKey: async () => KEY, fetch }).getJob('j')).toEqual({ kind: 'rate_limited', retryAfterMs: 7000 });
  });

  it('refuses an answer over the size limit unread', async () => {
    const { fetch } = fakeFetch(() => new Response('x'.repeat(2000), { status: 200 }));
    const api = new HttpProviderJobApi({ baseUrl: 'https://api.removebgvideo.com', apiKey: async () => KEY, fetch, maxAnswerBytes: 1000 });
    expect(await api.getJob('j')).toEqual({ kind: 'unexpected', detail: 'answer over 1000 bytes' });
  });

  it('times out a hung call inside its own budget, and reports a network error by kind only', async () => {
    // Prepare
    const hung: FetchLike = (_url, init) => new Promise((_resolve, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
    const broken: FetchLike = async () => {
      throw new TypeError(`fetch failed for https://api.removebgvideo.com with ${KEY}`);
    };

    // Act
    const timedOut = await new HttpProviderJobApi({ baseUrl: 'https://api.removebgvideo.com', apiKey: async () => KEY, fetch: hung, timeoutMs: 50 }).getJob('j');
    const failed = await new HttpProviderJobApi({ baseUrl: 'https://api.removebgvideo.com', apiKey: async () => KEY, fetch: broken }).getJob('j');

    // Assess
    expect(timedOut).toEqual({ kind: 'unavailable', detail: 'time-out' });
    expect(failed).toEqual({ kind: 'unavailable', detail: 'network error (TypeError)' });
  });

  describe('the base URL', () => {
    it.each([
      ['https://api.removebgvideo.com', 'https://api.removebgvideo.com'],
      ['https://api.removebgvideo.com/', 'https://api.removebgvideo.com'],
      ['http://127.0.0.1:4567', 'http://127.0.0.1:4567'],
    ])('accepts %s', (base, origin) => expect(providerOrigin(base)).toBe(origin));

    it.each([
      ['plain http off loopback', 'http://api.removebgvideo.com'],
      ['a path', 'https://api.removebgvideo.com/v2'],
      ['a query', 'https://api.removebgvideo.com?key=1'],
      ['credentials', 'https://user:pass@api.removebgvideo.com'],
      ['not a URL', 'api.removebgvideo.com'],
      ['another scheme', 'file:///etc/passwd'],
    ])('refuses %s', (_what, base) => expect(() => providerOrigin(base)).toThrow(/provider API base URL/));

    it('never builds a URL outside the job path', async () => {
      for (const id of ['.', '..']) expect(() => jobUrl('https://api.removebgvideo.com', id)).toThrow('job URL left the provider API');
      const { fetch, calls } = fakeFetch(() => new Response('{}'));
      expect(await new HttpProviderJobApi({ baseUrl: 'https://api.removebgvideo.com', apiKey: async () => KEY, fetch }).getJob('..')).toEqual({
        kind: 'unexpected',
        detail: 'job id cannot form a job URL',
      });
      expect(calls).toEqual([]);
      for (const id of ['a/b', '%2e%2e', '../x', 'x?y', '#', ' ', 'é']) {
        const url = new URL(jobUrl('https://api.removebgvideo.com', id));
        expect(url.origin).toBe('https://api.removebgvideo.com');
        expect(url.pathname.startsWith('/v1/jobs/')).toBe(true);
        expect(url.pathname.slice('/v1/jobs/'.length)).not.toContain('/');
      }
    });
  });
});

describe('the API key source', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());

  it('reads the secret once and reuses it', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: KEY });
    const source = new SecretsManagerApiKeySource(new SecretsManagerClient({ region: 'eu-west-1' }), 'arn:secret');
    expect([await source.get(), await source.get()]).toEqual([KEY, KEY]);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it.each([['', 'empty'], [`${KEY}\n`, 'a trailing newline']])('refuses a value that is %#: %s', async (value) => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: value });
    const act = new SecretsManagerApiKeySource(new SecretsManagerClient({ region: 'eu-west-1' }), 'arn:secret').get();
    await expect(act).rejects.toBeInstanceOf(ApiKeyUnavailableError);
    await expect(act).rejects.not.toThrow(KEY);
  });

  it('turns an access error into one that names its kind only', async () => {
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(new SecretsManagerApiKeySource(new SecretsManagerClient({ region: 'eu-west-1' }), 'arn:secret').get()).rejects.toThrow(
      'provider API key could not be read (AccessDeniedException)',
    );
  });
});

describe('the open-jobs index adapter', () => {
  const dynamo = mockClient(DynamoDBClient);
  beforeEach(() => dynamo.reset());
  const store = () => new DynamoOpenJobs({ client: new DynamoDBClient({ region: 'eu-west-1' }), tableName: 'jobs' });

  it('queries one shard of the index for jobs opened before the cutoff and follows every page', async () => {
    // Prepare
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ jobId: { S: 'a' }, openedAt: { S: '2026-11-27T08:00:00.000Z' }, openShard: { N: '3' } }], LastEvaluatedKey: { jobId: { S: 'a' } } })
      .resolvesOnce({ Items: [{ jobId: { S: 'b' }, openedAt: { S: '2026-11-27T09:00:00.000Z' }, reconcileCheckedAt: { S: '2026-11-27T10:00:00.000Z' }, reconcileFlag: { S: 'not_found' } }] });

    // Act
    const entries = [];
    for await (const entry of store().query(3, '2026-11-27T10:00:00.000Z')) entries.push(entry);

    // Assess
    expect(entries).toEqual([
      { jobId: 'a', openedAt: '2026-11-27T08:00:00.000Z' },
      { jobId: 'b', openedAt: '2026-11-27T09:00:00.000Z', checkedAt: '2026-11-27T10:00:00.000Z', flag: 'not_found' },
    ]);
    const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toMatchObject({
      TableName: 'jobs',
      IndexName: OPEN_JOBS_INDEX.name,
      KeyConditionExpression: '#shard = :shard AND #openedAt < :before',
      ExpressionAttributeValues: { ':shard': { N: '3' }, ':before': { S: '2026-11-27T10:00:00.000Z' } },
    });
    expect(inputs[1].ExclusiveStartKey).toEqual({ jobId: { S: 'a' } });
  });

  it('marks an open job only, and reports a closed one without writing it', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));

    // Act
    const marked = await store().markChecked('a', new Date('2026-11-27T12:00:00Z'), 'processing');
    const closed = await store().flag('b', 'not_found', new Date('2026-11-27T12:00:00Z'));

    // Assess
    expect([marked, closed]).toEqual(['marked', 'closed']);
    const input = dynamo.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('attribute_exists(#openShard)');
    expect(input.ExpressionAttributeValues).toEqual({ ':f0': { S: '2026-11-27T12:00:00.000Z' }, ':f1': { S: 'processing' } });
  });
});
