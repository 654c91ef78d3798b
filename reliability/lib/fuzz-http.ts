/**
 * Bad deliveries over HTTP against the real local API, then proof that nothing
 * changed: the same item counts in both tables, the same archive keys, an
 * empty queue and DLQ, and no trace of a fuzz delivery id anywhere.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { mapWithConcurrency } from '../../ops/lib/concurrency';
import { badCase, FUZZ_PREFIX, materialize, type BadCase } from './bad-input';
import type { HarnessClients, HarnessStack } from './harness-stack';
import { queueDepth } from './state';
import { CANARY_PREFIX } from './workload';

interface StateCounts {
  readonly deliveries: number;
  readonly jobs: number;
  readonly archiveKeys: number;
  readonly queue: number;
  readonly deadLetters: number;
  readonly fuzzTraces: number;
}

async function countItems(clients: HarnessClients, table: string, key: string): Promise<{ total: number; fuzz: number }> {
  let total = 0;
  let fuzz = 0;
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  for (let page = 0; page < 10_000; page += 1) {
    const output = await clients.dynamodb.send(new ScanCommand({ TableName: table, ProjectionExpression: '#k', ExpressionAttributeNames: { '#k': key }, ExclusiveStartKey: start }));
    for (const item of output.Items ?? []) {
      total += 1;
      if (item[key]?.S?.startsWith(FUZZ_PREFIX)) fuzz += 1;
    }
    start = output.LastEvaluatedKey;
    if (start === undefined) break;
  }
  return { total, fuzz };
}

async function counts(stack: HarnessStack): Promise<StateCounts> {
  const { direct, resources } = stack;
  const [deliveries, jobs, queue, deadLetters] = await Promise.all([
    countItems(direct, resources.deliveriesTableName, 'deliveryId'),
    countItems(direct, resources.jobsTableName, 'jobId'),
    queueDepth(direct, resources.queueUrl),
    queueDepth(direct, resources.deadLetterQueueUrl),
  ]);
  let archiveKeys = 0;
  let fuzzKeys = 0;
  let token: string | undefined;
  for (let page = 0; page < 10_000; page += 1) {
    const output = await direct.s3.send(new ListObjectsV2Command({ Bucket: resources.archiveBucketName, ContinuationToken: token }));
    for (const object of output.Contents ?? []) {
      archiveKeys += 1;
      if (/\/fz-[^/]*$/.test(object.Key ?? '')) fuzzKeys += 1;
    }
    token = output.NextContinuationToken;
    if (!output.IsTruncated || token === undefined) break;
  }
  return { deliveries: deliveries.total, jobs: jobs.total, archiveKeys, queue, deadLetters, fuzzTraces: deliveries.fuzz + jobs.fuzz + fuzzKeys };
}

export interface FuzzResult {
  readonly tried: number;
  readonly answers: Readonly<Record<string, number>>;
  readonly byDefect: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly before: StateCounts;
  readonly after: StateCounts;
  readonly violations: readonly string[];
}

export async function runHttpFuzz(
  stack: HarnessStack,
  options: { readonly runs: number; readonly seed: number; readonly signatures: Set<string>; readonly bodies: Set<string> },
): Promise<FuzzResult> {
  const canary = `${CANARY_PREFIX}fuzz-`;
  const cases: BadCase[] = fc.sample(badCase({ canary, maxOversize: 64 * 1024 }), { numRuns: options.runs, seed: options.seed });
  const before = await counts(stack);
  const answers: Record<string, number> = {};
  const byDefect: Record<string, Record<string, number>> = {};
  const violations: string[] = [];
  await mapWithConcurrency(cases, 8, async (item) => {
    const request = materialize(item, stack.signingSecret, new Date());
    const signature = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'x-webhook-signature')?.[1];
    if (signature !== undefined) options.signatures.add(signature);
    if (request.bytes.length < 4096) options.bodies.add(request.bytes.toString('utf8'));
    let status: string;
    try {
      const response = await fetch(stack.webhookUrl, {
        method: 'POST',
        headers: { ...request.headers, 'content-type': request.encoding === 'text' ? 'application/json' : 'application/octet-stream' },
        body: request.bytes,
        signal: AbortSignal.timeout(15_000),
      });
      await response.arrayBuffer();
      status = String(response.status);
    } catch (error) {
      status = `client error ${error instanceof Error ? error.name : 'unknown'}`;
    }
    answers[status] = (answers[status] ?? 0) + 1;
    const defect = item.defect.startsWith('schema:') ? 'schema violation' : item.defect;
    byDefect[defect] = { ...byDefect[defect], [status]: (byDefect[defect]?.[status] ?? 0) + 1 };
    if (!/^4\d\d$/.test(status) && violations.length < 10) {
      violations.push(`${item.defect} answered ${status}: ${JSON.stringify({ ...item, body: item.body.kind === 'oversized' ? item.body : undefined }).slice(0, 300)}`);
    }
  });
  const after = await counts(stack);
  for (const key of Object.keys(before) as (keyof StateCounts)[]) {
    if (before[key] !== after[key]) violations.push(`state changed: ${key} ${before[key]} -> ${after[key]}`);
  }
  if (after.fuzzTraces > 0) violations.push(`${after.fuzzTraces} fuzz delivery ids found in the tables or the archive`);
  return { tried: cases.length, answers, byDefect, before, after, violations };
}
