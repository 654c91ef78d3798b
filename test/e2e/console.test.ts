/**
 * The ops console in a real browser (Debian's Chromium through playwright-core)
 * against the running local stack, started as operators start it
 * (`node --import tsx ops/console.ts`, what `npm run console` runs) with its
 * AWS calls recorded as the operator's for the IAM check. It points at an
 * outputs file of its own whose DLQ is a scratch queue, so its redrive never
 * moves another test's dead letters; everything else is the stack's.
 *
 * The screenshots docs/console.md shows are taken here (CONSOLE_SCREENSHOTS=docs
 * writes them into docs/console/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Page } from 'playwright-core';
import { DEAD_LETTER_ATTRIBUTES, DEFAULTS, STACK_NAME } from '../../lambda/core/contract';
import { archiveKey } from '../../lambda/core/archive-key';
import { toAsciiJson } from '../../lambda/core/ascii-json';
import { CONSOLE_VIEWER, OPERATOR } from '../../local/iam/access-log';
import { recordingEnv } from '../../local/iam/recording';
import { csrfValue } from '../../ops/console/security';
import { buildPayload, buildDelivery } from '../../ops/lib/provider';
import { buildReplayMessage } from '../../ops/lib/replay-message';
import { accessLogDir } from './support/context';
import { launchChromium, screenshotDir, type RealBrowser } from './support/browser';
import { archivedEntriesFor, connect, getDeliveryRecord, getJob, inspectQueue, send, sendUntilSettled, signedDelivery, uniqueId, waitFor, waitForArchived, type E2eStack } from './support/stack';

jest.setTimeout(120_000);

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CONSOLE_LINE = /^console: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))$/m;

interface RunningConsole {
  readonly child: ChildProcess;
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  output(): string;
}

function startConsole(outputsFile: string, signingSecret: string, options: { readonly principal?: string; readonly args?: readonly string[] } = {}): Promise<RunningConsole> {
  const args = ['--import', 'tsx', '--import', './local/iam/record-calls.ts', path.join('ops', 'console.ts'), '--outputs', outputsFile, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...recordingEnv(accessLogDir(), 'e2e', options.principal ?? OPERATOR), WEBHOOK_SIGNING_SECRET: signingSecret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no console: line after 60 s\n${stdout}\n${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`the console exited with ${code} before it was ready\n${stdout}\n${stderr}`)));
    child.stdout?.on('data', () => {
      const match = CONSOLE_LINE.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ child, url: match[1], origin: `http://127.0.0.1:${match[2]}`, port: Number(match[2]), token: match[3], output: () => `${stdout}\n${stderr}` });
    });
  });
}

/** Waits for an action's page to show its summary; on a time-out, says what the page and the console said. */
async function waitForSummary(page: Page, running: RunningConsole): Promise<string> {
  try {
    await page.getByRole('heading', { name: 'Summary' }).waitFor({ timeout: 60_000 });
  } catch (error) {
    throw new Error(`no summary on ${page.url()}:\n${await page.locator('main').textContent()}\nconsole said:\n${running.output()}`, { cause: error });
  }
  return (await page.locator('main').textContent()) ?? '';
}

async function stopConsole(running: RunningConsole): Promise<void> {
  if (running.child.exitCode !== null) return;
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

describe('the ops console, in a real browser', () => {
  let stack: E2eStack;
  let scratch: string;
  let dlqUrl: string;
  let running: RunningConsole;
  let browser: RealBrowser;
  let page: Page;
  const shots = (): string => screenshotDir();
  const shoot = async (name: string): Promise<void> => {
    const file = path.join(shots(), `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
  };

  beforeAll(async () => {
    stack = connect();
    scratch = mkdtempSync(path.join(tmpdir(), 'console-e2e-'));
    const created = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueId('console-dlq').replace(/[^A-Za-z0-9_-]/g, '-') }));
    dlqUrl = created.QueueUrl ?? '';
    const outputsFile = path.join(scratch, 'outputs.json');
    writeFileSync(outputsFile, JSON.stringify({ [STACK_NAME]: { ...stack.outputs, DeadLetterQueueUrl: dlqUrl } }));
    running = await startConsole(outputsFile, stack.context.signingSecret);
    browser = await launchChromium();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (running !== undefined) await stopConsole(running);
    if (dlqUrl) await stack.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl }));
    stack?.clients.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('who may use it', () => {
    it('prints its link with the token and serves 127.0.0.1', () => {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    });

    it('refuses a request without the token with 401, and a wrong token with 403', async () => {
      const without = await fetch(`${running.origin}/`);
      const wrong = await fetch(`${running.origin}/?token=not-this-runs-token`);
      const asset = await fetch(`${running.origin}/assets/console.css`);

      expect(without.status).toBe(401);
      expect(wrong.status).toBe(403);
      expect(asset.status).toBe(401);
      expect(await without.text()).not.toContain(running.token);
    });

    it('refuses a page served under another host name (DNS rebinding), even with the token', async () => {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const url = new URL(running.url);
        const request = httpRequest({ host: '127.0.0.1', port: running.port, path: `${url.pathname}${url.search}`, headers: { host: `attacker.example:${running.port}` } }, (answer) => {
          answer.resume();
          resolve(answer.statusCode);
        });
        request.once('error', reject);
        request.end();
      });

      expect(status).toBe(403);
    });

    it('opens with the token and then works on its HttpOnly, SameSite=Strict cookie alone', async () => {
      const answer = await page.goto(running.url);

      expect(answer?.status()).toBe(200);
      const cookies = await browser.context.cookies(running.origin);
      expect(cookies).toEqual([expect.objectContaining({ name: 'console_token', httpOnly: true, sameSite: 'Strict', value: running.token })]);
      const next = await page.goto(`${running.origin}/dlq`);
      expect(next?.status()).toBe(200);
      expect(await page.locator('h1').textContent()).toBe('Dead-letter queue');
    });

    it('refuses a POST from another origin, and one without the CSRF field, and changes nothing', async () => {
      const cookie = `console_token=${running.token}`;
      const form = { 'content-type': 'application/x-www-form-urlencoded', cookie };

      const crossSite = await fetch(`${running.origin}/redrive`, { method: 'POST', headers: { ...form, origin: 'http://attacker.example' }, body: 'max=1' });
      const noCsrf = await fetch(`${running.origin}/redrive`, { method: 'POST', headers: { ...form, origin: running.origin }, body: 'max=1' });
      const notAForm = await fetch(`${running.origin}/redrive`, { method: 'POST', headers: { cookie, origin: running.origin, 'content-type': 'application/json' }, body: '{}' });
      const viaGet = await fetch(`${running.origin}/redrive`, { headers: { cookie } });

      expect(crossSite.status).toBe(403);
      expect(noCsrf.status).toBe(403);
      expect(notAForm.status).toBe(415);
      expect(viaGet.status).toBe(404);
      const actions = await fetch(`${running.origin}/actions`, { headers: { cookie } });
      expect(await actions.text()).toContain('No action in this run yet');
    });
  });

  describe('looking', () => {
    const jobId = uniqueId('job_console');
    const completedId = uniqueId('dlv_console');
    let refusedId: string;
    let forgedId: string;

    beforeAll(async () => {
      await sendUntilSettled(stack, signedDelivery(stack, 'job.started', { jobId }));
      const completed = signedDelivery(stack, 'job.completed', { jobId, deliveryId: completedId });
      await sendUntilSettled(stack, completed);
      await send(stack, completed); // the provider's retry: 200 duplicate
      const stale = signedDelivery(stack, 'job.completed', { jobId, timestamp: '2020-01-01T00:00:00.000Z' });
      refusedId = stale.deliveryId;
      await send(stack, stale);
      const forged = buildDelivery({ event: 'job.completed', body: JSON.stringify(buildPayload('job.completed', { jobId })), secret: 'not-the-providers-secret' });
      forgedId = forged.deliveryId;
      await send(stack, forged);
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'completed' ? true : undefined), `job ${jobId} to complete`);
      // Batched archive lines reach S3 when the local stream flushes, within seconds.
      await waitForArchived(stack, completedId);
    });

    it('shows every answer of the last hour by outcome, with the refused ones and their reasons', async () => {
      await page.goto(`${running.origin}/`);

      expect(await page.locator('svg.chart').count()).toBe(2);
      const latest = page.locator('table', { has: page.locator('th', { hasText: 'reason' }) });
      await expect(latest.locator('tr', { hasText: refusedId }).textContent()).resolves.toMatch(/refused\s*401\s*stale_timestamp/);
      await expect(latest.locator('tr', { hasText: forgedId }).textContent()).resolves.toMatch(/refused\s*401\s*invalid_signature/);
      await shoot('overview');
    });

    it('lists a job\'s deliveries, the duplicate among them', async () => {
      await page.goto(`${running.origin}/deliveries?job=${encodeURIComponent(jobId)}`);

      const rows = page.locator('tbody tr');
      await expect(rows.count()).resolves.toBe(3);
      await expect(page.locator('tbody tr', { hasText: 'duplicate' }).textContent()).resolves.toContain(completedId);
      await shoot('deliveries');
    });

    it('finds a job from the search box, with the keyboard only', async () => {
      await page.goto(`${running.origin}/`);

      await page.keyboard.press('/');
      await page.keyboard.type(jobId);
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/jobs/${encodeURIComponent(jobId)}`);

      expect(await page.locator('h1').textContent()).toBe(`Job ${jobId}`);
      await expect(page.locator('table', { hasText: 'eventId' }).textContent()).resolves.toMatch(new RegExp(`${jobId}#started.*Job Started[\\s\\S]*${jobId}#completed.*Job Completed`));
      await shoot('job');
    });

    it('opens a delivery: its attempts, dedupe record, archived headers with the signature check, raw body and what the worker did', async () => {
      await page.goto(`${running.origin}/deliveries/${completedId}`);

      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toMatch(/x-webhook-signature\s*present\s*verifies/);
      expect(text).toMatch(/body SHA-256\s*[0-9a-f]{64}\s*matches the bytes/);
      expect(text).toContain(`"job_id":"${jobId}"`);
      expect(text).toMatch(/status\s*accepted/);
      expect(text).toMatch(/already applied: the worker skips it/);
      await expect(page.locator('tbody tr', { hasText: 'duplicate' }).count()).resolves.toBe(1);
      // Archived as a line of a batched object (the shape of every realistic delivery), read back through replay's reader.
      const [entry] = await archivedEntriesFor(stack, completedId);
      expect(text).toContain(`s3://${stack.outputs.ArchiveBucketName}/${entry.key} line ${entry.line}`);
      expect(entry.key).toMatch(/\/batch\/.*\.jsonl\.gz$/);
      // The signature's value is never on the page, only its presence and its check.
      expect(await page.content()).not.toMatch(/sha256=[0-9a-f]{64}/);
      await shoot('delivery');
    });

    it('opens a refused delivery from its log lines alone: no record, no archive', async () => {
      await page.goto(`${running.origin}/deliveries/${refusedId}`);

      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain('No dedupe record');
      expect(text).toMatch(/refused\s*401\s*stale_timestamp/);
    });

    it('opens a delivery archived as its own object (a body too large for a batched line), read by the same reader', async () => {
      // Prepare: a body just under the receiver's 1 MiB limit, whose message would fit neither SQS nor its line Firehose.
      const bigJobId = uniqueId('job_big');
      const bare = signedDelivery(stack, 'job.completed', { jobId: bigJobId, extraData: { notes: '' } });
      const pad = DEFAULTS.maxBodyBytes - 600 - Buffer.byteLength(bare.body as string);
      const big = signedDelivery(stack, 'job.completed', { jobId: bigJobId, extraData: { notes: 'n'.repeat(pad) } });
      expect((await send(stack, big)).status).toBe(202);
      const record = await getDeliveryRecord(stack, big.deliveryId);

      // Act
      await page.goto(`${running.origin}/deliveries/${big.deliveryId}`);

      // Assess
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain(`s3://${stack.outputs.ArchiveBucketName}/${archiveKey(String(record?.receivedAt), big.deliveryId)}`);
      expect(text).toMatch(/x-webhook-signature\s*present\s*verifies/);
      expect(text).toMatch(/body SHA-256\s*[0-9a-f]{64}\s*matches the bytes/);
      expect(text).toMatch(new RegExp(`first \\d+ of ${Buffer.byteLength(big.body as string)} bytes`));
    });
  });

  describe('stuck jobs', () => {
    it('lists a job that started and never finished, from the open-jobs index', async () => {
      const jobId = uniqueId('job_open');
      await sendUntilSettled(stack, signedDelivery(stack, 'job.started', { jobId }));
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'started' ? true : undefined), `job ${jobId} to start`);

      await page.goto(`${running.origin}/stuck`);
      const byDefault = (await page.locator('main').textContent()) ?? '';
      await page.locator('input[name="stuckAfter"]').fill('0');
      await page.getByRole('button', { name: 'Show' }).click();

      expect(byDefault).not.toContain(jobId);
      const row = page.locator('tbody tr', { hasText: jobId });
      await expect(row.textContent()).resolves.toMatch(/\d+ s\s*never/);
      expect(await page.locator('main').textContent()).toContain('npm run reconcile -- --stuck-after 0 --outputs');
      await shoot('stuck');
    });
  });

  describe('acting', () => {
    it('replays a lost job: a dry run shows the plan and changes nothing, the confirmed run rebuilds the item', async () => {
      // Prepare: a finished job whose item was lost.
      const jobId = uniqueId('job_lost');
      const lost = [signedDelivery(stack, 'job.started', { jobId }), signedDelivery(stack, 'job.completed', { jobId })];
      for (const delivery of lost) await sendUntilSettled(stack, delivery);
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'completed' ? true : undefined), `job ${jobId} to complete`);
      for (const delivery of lost) await waitForArchived(stack, delivery.deliveryId);
      await stack.clients.dynamodb.send(new DeleteItemCommand({ TableName: stack.outputs.JobsTableName, Key: { jobId: { S: jobId } } }));

      // Act: the dry run, from the job's page.
      await page.goto(`${running.origin}/jobs/${encodeURIComponent(jobId)}`);
      await page.getByRole('link', { name: 'Replay this job (dry run first)' }).click();
      await page.locator('input[name="from"]').fill(new Date(Date.now() - 600_000).toISOString());
      await page.getByRole('button', { name: 'Dry run' }).click();
      await waitForSummary(page, running);

      // Assess: the plan, and nothing changed.
      const plan = (await page.locator('main').textContent()) ?? '';
      expect(plan).toMatch(new RegExp(`${jobId}\\s*no item\\s*completed`));
      expect(plan).toContain('would enqueue 2');
      expect(plan).toMatch(/npm run replay -- --from \S+ --to \S+ --job-id \S+ --outputs \S+ --dry-run/);
      expect(await getJob(stack, jobId)).toBeUndefined();
      await shoot('replay-dry-run');

      // Act: confirm.
      await page.getByRole('button', { name: /Replay 2 deliveries for real/ }).click();
      const summary = await waitForSummary(page, running);

      // Assess: the summary, and the item rebuilt by the worker.
      expect(summary).toMatch(/replay: listed \d+, matched 2, enqueued 2, skipped \d+, refused 0/);
      const item = await waitFor(async () => {
        const found = await getJob(stack, jobId);
        return found?.status === 'completed' ? found : undefined;
      }, `job ${jobId} to be rebuilt`);
      expect(item).toMatchObject({ jobId, status: 'completed', lastOrigin: 'replay' });
      await shoot('replay');
    });

    it('redrives the DLQ after showing what is in it', async () => {
      // Prepare: a dead-lettered job event, as the receiver queued it, with the reason the worker gives when it dead-letters one itself.
      const jobId = uniqueId('job_dead');
      const deliveryId = uniqueId('dlv_dead');
      const createdAt = new Date().toISOString();
      const { replay: _replay, ...asReceived } = buildReplayMessage({
        deliveryId,
        event: 'job.started',
        jobId,
        timestamp: createdAt,
        receivedAt: createdAt,
        archive: { bucket: stack.outputs.ArchiveBucketName, key: `raw/never/${deliveryId}.json` },
        payload: buildPayload('job.started', { jobId, createdAt }),
        force: false,
      });
      await stack.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: toAsciiJson(asReceived), MessageAttributes: { [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: 'invalid_payload' } } }),
      );

      // Act: look, then redrive.
      await page.goto(`${running.origin}/dlq`);
      const row = page.locator('tbody tr', { hasText: deliveryId });
      await expect(row.textContent()).resolves.toContain('invalid_payload');
      expect(await inspectQueue(stack, dlqUrl)).toHaveLength(1);
      await shoot('dlq');
      await page.getByRole('button', { name: 'Redrive the DLQ' }).click();
      const summary = await waitForSummary(page, running);

      // Assess
      expect(summary).toMatch(/redrive \(loop\): moved 1, failed 0 in \d+ ms; DLQ now 0 visible, 0 in flight/);
      expect(summary).toContain(`npm run redrive -- --outputs`);
      expect(await inspectQueue(stack, dlqUrl)).toEqual([]);
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'started' ? true : undefined), `job ${jobId} to start`);
      await shoot('redrive');
    });
  });
  describe('read-only, for a role granted grantConsole alone', () => {
    let viewer: RunningConsole;

    beforeAll(async () => {
      // Its calls are recorded as the console role's: the IAM check judges them against grantConsole alone.
      viewer = await startConsole(path.join(scratch, 'outputs.json'), stack.context.signingSecret, { principal: CONSOLE_VIEWER, args: ['--read-only'] });
    });

    afterAll(async () => {
      if (viewer !== undefined) await stopConsole(viewer);
    });

    it('shows every view, offers no action, and refuses one posted anyway', async () => {
      const jobId = uniqueId('job_viewed');
      const started = signedDelivery(stack, 'job.started', { jobId });
      await sendUntilSettled(stack, started);
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'started' ? true : undefined), `job ${jobId} to start`);
      const viewerPage = await browser.context.newPage();
      try {
        for (const [pathname, heading] of [
          [viewer.url, 'Overview'],
          [`${viewer.origin}/deliveries`, 'Deliveries'],
          [`${viewer.origin}/deliveries/${started.deliveryId}`, `Delivery ${started.deliveryId}`],
          [`${viewer.origin}/jobs/${encodeURIComponent(jobId)}`, `Job ${jobId}`],
          [`${viewer.origin}/stuck?stuckAfter=0`, 'Stuck jobs'],
          [`${viewer.origin}/dlq`, 'Dead-letter queue'],
        ]) {
          const answer = await viewerPage.goto(pathname);
          expect(answer?.status()).toBe(200);
          expect(await viewerPage.locator('h1').textContent()).toBe(heading);
          expect(await viewerPage.getByRole('button', { name: /Redrive|Dry run|for real/ }).count()).toBe(0);
        }
        expect(await viewerPage.locator('main').textContent()).toContain('Read-only console: no redrive.');
        const cookie = `console_token=${viewer.token}`;
        const form = new URLSearchParams({ csrf: csrfValue(viewer.token), max: '1' }).toString();
        const posted = await fetch(`${viewer.origin}/redrive`, { method: 'POST', headers: { cookie, origin: viewer.origin, 'content-type': 'application/x-www-form-urlencoded' }, body: form });
        expect(posted.status).toBe(403);
        expect(await posted.text()).toContain('read-only');
      } finally {
        await viewerPage.close();
      }
    });
  });
});
