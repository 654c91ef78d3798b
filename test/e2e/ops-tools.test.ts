/**
 * The ops tools against the running local stack, as operators run them: the real
 * CLIs as child processes (exit codes, stdout, stderr), the real archive, queues,
 * worker and jobs table. Every test scopes itself to its own job ids, and the
 * redrive test to its own dead-letter queue, so tests sharing the stack never
 * move or replay each other's messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { STACK_NAME } from '../../lambda/core/contract';
import { toAsciiJson } from '../../lambda/core/ascii-json';
import { buildPayload } from '../../ops/lib/provider';
import { buildReplayMessage } from '../../ops/lib/replay-message';
import {
  waitForArchived,
  connect,
  getJob,
  inspectQueue,
  sendUntilSettled,
  signedDelivery,
  sleep,
  uniqueId,
  waitFor,
  type E2eStack,
  type JobItemView,
} from './support/stack';
import { runTool } from './support/cli';

jest.setTimeout(120_000);

/** The attributes a job item owes to its deliveries (history, updatedAt and lastOrigin record when and how, so they differ on a replay). */
function outcome(item: JobItemView | undefined): Record<string, unknown> {
  if (item === undefined) return {};
  const { history: _history, updatedAt: _updatedAt, lastOrigin: _lastOrigin, deliveryIds, ...rest } = item;
  return { ...rest, deliveryIds: [...((deliveryIds as string[] | undefined) ?? [])].sort() };
}

async function deleteJob(stack: E2eStack, jobId: string): Promise<void> {
  await stack.clients.dynamodb.send(new DeleteItemCommand({ TableName: stack.outputs.JobsTableName, Key: { jobId: { S: jobId } } }));
}

function waitForStatus(stack: E2eStack, jobId: string, status: string, timeoutMs = 30_000): Promise<JobItemView> {
  return waitFor(
    async () => {
      const item = await getJob(stack, jobId);
      return item?.status === status ? item : undefined;
    },
    `job ${jobId} to be ${status}`,
    timeoutMs,
  );
}

describe('ops tools on the local stack', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  /** Delivers job.started then job.completed for a new job and waits until the worker applied both. */
  async function completedJob(): Promise<{ jobId: string; deliveryIds: string[]; item: JobItemView; from: string }> {
    const from = new Date(Date.now() - 1000).toISOString();
    const jobId = uniqueId('job_ops');
    const started = signedDelivery(stack, 'job.started', { jobId, model: 'human', outputFormat: 'png_sequence', background: 'custom' });
    const completed = signedDelivery(stack, 'job.completed', { jobId, model: 'human', outputFormat: 'png_sequence', background: 'custom', creditsUsed: 31 });
    expect((await sendUntilSettled(stack, started)).last.status).toBe(202);
    await waitForStatus(stack, jobId, 'started');
    expect((await sendUntilSettled(stack, completed)).last.status).toBe(202);
    const item = await waitForStatus(stack, jobId, 'completed');
    // Replay reads the archive: wait for the local stream to have written both (within seconds).
    await waitForArchived(stack, started.deliveryId);
    await waitForArchived(stack, completed.deliveryId);
    return { jobId, deliveryIds: [started.deliveryId, completed.deliveryId], item, from };
  }

  const until = (): string => new Date(Date.now() + 1000).toISOString();

  describe('npm run replay', () => {
    it('rebuilds a deleted job item from the archive, with the same final status and attributes', async () => {
      // Prepare
      const { jobId, deliveryIds, item: before, from } = await completedJob();
      await deleteJob(stack, jobId);
      expect(await getJob(stack, jobId)).toBeUndefined();

      // Act: --verify with the stack's secret from the environment, as an operator would pass it.
      const run = await runTool('replay', ['--outputs', stack.context.outputsFile, '--from', from, '--to', until(), '--job-id', jobId, '--verify'], {
        WEBHOOK_SIGNING_SECRET: stack.context.signingSecret,
      });
      await waitForStatus(stack, jobId, 'completed');
      // The started event may arrive after completed: then it is recorded as stale, never a regression.
      // Compare only once both are in (the second one adds its delivery id).
      await waitFor(async () => ((await getJob(stack, jobId))?.history?.length === 2 ? true : undefined), 'both replayed events to be recorded');
      const after = await getJob(stack, jobId);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^replay: listed \d+, matched 2, enqueued 2, skipped \d+, refused 0 in \d+ ms$/m);
      expect(outcome(after)).toEqual(outcome(before));
      expect(after).toMatchObject({ model: 'human', outputFormat: 'png_sequence', background: 'custom', creditsUsed: 31, lastDeliveryId: deliveryIds[1], lastOrigin: 'replay' });
      const history = after?.history ?? [];
      expect(history.map((entry) => entry.deliveryId).sort()).toEqual([...deliveryIds].sort());
      expect(history.every((entry) => (entry as { replay?: boolean }).replay === true)).toBe(true);
    });

    it('changes nothing on a dry run and shows what it would do', async () => {
      // Prepare
      const { jobId, deliveryIds, item: before, from } = await completedJob();
      const args = ['--outputs', stack.context.outputsFile, '--from', from, '--to', until(), '--job-id', jobId, '--dry-run'];

      // Act: once against the full item, once after deleting it.
      const onItem = await runTool('replay', args);
      await deleteJob(stack, jobId);
      const onNothing = await runTool('replay', args);
      await sleep(2000);

      // Assess
      expect(onItem.code).toBe(0);
      expect(onItem.stdout).toContain(`job ${jobId}: now status completed, last ${deliveryIds[1]}`);
      expect(onItem.stdout).toMatch(new RegExp(`${deliveryIds[0]} +job\\.started +already applied`));
      expect(onItem.stdout).toMatch(/^replay \(dry run, nothing changed\): listed \d+, matched 2, would enqueue 2, skipped \d+, refused 0/m);
      expect(onNothing.stdout).toContain(`job ${jobId}: now no item; after replay: completed`);
      expect(onNothing.stdout).toMatch(new RegExp(`${deliveryIds[1]} +job\\.completed +would apply`));
      // Had anything been enqueued, the worker would have recreated the item by now.
      expect(await getJob(stack, jobId)).toBeUndefined();
      const queued = await inspectQueue(stack, stack.outputs.QueueUrl);
      expect(queued.filter((message) => deliveryIds.some((id) => message.body.includes(id)))).toEqual([]);
      expect(before.status).toBe('completed');
    });

    it('refuses, under --verify, an archived entry altered after the fact', async () => {
      // Prepare: rewrite the body inside its batched line, keep its signature and hash (of the original).
      const { jobId, deliveryIds, from } = await completedJob();
      const [entry] = await waitForArchived(stack, deliveryIds[1]);
      const key = entry.key;
      const original = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.outputs.ArchiveBucketName, Key: key }));
      const text = gunzipSync(Buffer.from((await original.Body?.transformToByteArray()) ?? [])).toString('utf8');
      const lines = text.split('\n');
      const index = lines.findIndex((line) => line.includes(`"deliveryId":"${deliveryIds[1]}"`));
      const record = JSON.parse(lines[index]) as { body: string; bodySha256: string };
      const forgedBody = record.body.replace('"credits_used":31', '"credits_used":0');
      expect(forgedBody).not.toBe(record.body);
      const put = (line: Record<string, unknown>): Promise<unknown> => {
        const rewritten = lines.map((existing, at) => (at === index ? JSON.stringify(line) : existing)).join('\n');
        return stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.outputs.ArchiveBucketName, Key: key, Body: gzipSync(rewritten) }));
      };
      const args = ['--outputs', stack.context.outputsFile, '--from', from, '--to', until(), '--delivery-id', deliveryIds[1], '--verify'];
      const env = { WEBHOOK_SIGNING_SECRET: stack.context.signingSecret };

      // Act
      await put({ ...record, body: forgedBody });
      const altered = await runTool('replay', args, env);
      // Someone able to write the object could rewrite the hash as well: only the signature catches that.
      const sha = createHash('sha256').update(forgedBody, 'utf8').digest('hex');
      await put({ ...record, body: forgedBody, bodySha256: sha });
      const rehashed = await runTool('replay', args, env);
      await sleep(1000);

      // Assess
      expect(altered.code).toBe(1);
      expect(altered.stdout).toContain(`refused ${key} line ${index + 1}: body sha256 differs from the archived metadata`);
      expect(altered.stdout).toMatch(/^replay: listed \d+, matched 1, enqueued 0, skipped \d+, refused 1 in \d+ ms$/m);
      expect(rehashed.code).toBe(1);
      expect(rehashed.stdout).toContain(`refused ${key} line ${index + 1}: signature does not verify over the archived bytes`);
      expect(await getJob(stack, jobId)).toMatchObject({ status: 'completed', creditsUsed: 31 });
    });

    it('finds a delivery a few seconds after its ack', async () => {
      // Prepare
      const from = new Date(Date.now() - 1000).toISOString();
      const delivery = signedDelivery(stack, 'job.started', { jobId: uniqueId('job_soon') });
      expect((await sendUntilSettled(stack, delivery)).last.status).toBe(202);
      const ackedAt = Date.now();

      // Act: what an operator would run, repeated until it finds the delivery.
      const found = await waitFor(async () => {
        const run = await runTool('replay', ['--outputs', stack.context.outputsFile, '--from', from, '--to', until(), '--delivery-id', delivery.deliveryId, '--dry-run']);
        return /matched 1, would enqueue 1/.test(run.stdout) ? Date.now() : undefined;
      }, 'replay to find the delivery', 15_000, 500);

      // Assess: the local stream flushes within 2 s; each run of the tool adds its own start-up.
      expect(found - ackedAt).toBeLessThan(15_000);
    });

    it.each([
      ['an unparseable date', ['--from', 'tuesday', '--to', '2026-11-27T11:00:00Z'], /^replay: --from "tuesday" is not an ISO 8601/],
      ['--to before --from', ['--from', '2026-11-27T11:00:00Z', '--to', '2026-11-27T10:00:00Z'], /^replay: --to .* must be after --from/],
      ['an unknown flag', ['--from', '2026-11-27T10:00:00Z', '--to', '2026-11-27T11:00:00Z', '--yes'], /^replay: unknown option --yes/],
      ['a missing outputs file', ['--from', '2026-11-27T10:00:00Z', '--to', '2026-11-27T11:00:00Z', '--outputs', '/nonexistent/outputs.json'], /^replay: no outputs file at \/nonexistent\/outputs.json/],
    ])('exits 2 with one line on stderr for %s', async (_name, args, expected) => {
      const run = await runTool('replay', args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(expected);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    });
  });

  describe('npm run redrive', () => {
    let scratch: string;
    let dlqUrl: string;
    let outputsFile: string;

    beforeEach(async () => {
      // A DLQ of this test's own, redriven into the stack's real queue, where the real worker picks it up.
      scratch = mkdtempSync(path.join(tmpdir(), 'ops-redrive-'));
      const created = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueId('ops-redrive-dlq').replace(/[^A-Za-z0-9_-]/g, '-') }));
      dlqUrl = created.QueueUrl ?? '';
      outputsFile = path.join(scratch, 'outputs.json');
      writeFileSync(outputsFile, JSON.stringify({ [STACK_NAME]: { ...stack.outputs, DeadLetterQueueUrl: dlqUrl } }));
    });

    afterEach(async () => {
      await stack.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl }));
      rmSync(scratch, { recursive: true, force: true });
    });

    /** A dead-lettered job event exactly as the receiver would have queued it. */
    async function deadLetter(jobId: string, event: 'job.started' | 'job.completed'): Promise<string> {
      const deliveryId = uniqueId('dlv_dead');
      const createdAt = new Date().toISOString();
      const message = buildReplayMessage({
        deliveryId,
        event,
        jobId,
        timestamp: createdAt,
        receivedAt: createdAt,
        archive: { bucket: stack.outputs.ArchiveBucketName, key: `raw/never/${deliveryId}.json` },
        payload: buildPayload(event, { jobId, createdAt }),
        force: false,
      });
      const { replay: _replay, ...asReceived } = message;
      await stack.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: toAsciiJson(asReceived),
          MessageAttributes: { event: { DataType: 'String', StringValue: event }, deliveryId: { DataType: 'String', StringValue: deliveryId } },
        }),
      );
      return deliveryId;
    }

    it('empties the DLQ into the main queue, where the worker applies the events', async () => {
      // Prepare
      const jobId = uniqueId('job_dead');
      await deadLetter(jobId, 'job.started');
      await deadLetter(jobId, 'job.completed');

      // Act
      const run = await runTool('redrive', ['--outputs', outputsFile]);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('StartMessageMoveTask not supported here (InvalidAction');
      expect(run.stdout).toMatch(/^redrive \(loop\): moved 2, failed 0 in \d+ ms; DLQ now 0 visible, 0 in flight$/m);
      expect(await inspectQueue(stack, dlqUrl)).toEqual([]);
      expect(await waitForStatus(stack, jobId, 'completed')).toMatchObject({ jobId, status: 'completed', creditsUsed: 12 });
    });

    it('moves no more than --max', async () => {
      const jobId = uniqueId('job_dead');
      await deadLetter(jobId, 'job.started');
      await deadLetter(jobId, 'job.completed');

      const run = await runTool('redrive', ['--outputs', outputsFile, '--max', '1']);

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/moved 1, failed 0/);
      expect(await inspectQueue(stack, dlqUrl)).toHaveLength(1);
    });
  });
});
