import { DELIVERY_ID_PATTERN } from '../../../lambda/core/contract';
import { checkParsedPayload } from '../../../lambda/core/payload';
import { readJobAnswer, reconcileDeliveryId, syntheticDelivery, type AnswerReading } from '../../../lambda/core/reconcile/provider-answer';
import { T0 } from './support';

function terminal(fields: Record<string, unknown>): Extract<AnswerReading, { kind: 'terminal' }> {
  const reading = readJobAnswer('job_1', JSON.stringify(fields));
  if (reading.kind !== 'terminal') throw new Error(`expected a terminal reading, got ${JSON.stringify(reading)}`);
  return reading;
}

function dataOf(fields: Record<string, unknown>): Record<string, unknown> {
  const built = syntheticDelivery('job_1', terminal(fields), T0);
  if (!built.ok) throw new Error(`expected a delivery, got ${built.issues.join('; ')}`);
  return built.delivery.payload.data;
}

const text = (fields: Record<string, unknown>): string => JSON.stringify(fields);

describe('reading the provider job API answer', () => {
  describe('status mapping', () => {
    it.each([
      ['completed', 'terminal', 'job.completed'],
      ['failed', 'terminal', 'job.failed'],
      ['COMPLETED', 'terminal', 'job.completed'],
    ])('maps %s to a terminal event', (status, kind, event) => {
      const reading = readJobAnswer('job_1', text({ id: 'job_1', status, output_url: 'https://cdn.example.com/a.webm', error: { code: 'x', message: 'y' } }));
      expect(reading).toMatchObject({ kind, event });
    });

    it.each(['pending', 'created', 'processing', 'queued', 'uploading', 'something-new'])('keeps %s open', (status) => {
      expect(readJobAnswer('job_1', text({ id: 'job_1', status }))).toMatchObject({ kind: 'open', status });
    });

    it('reads a status whatever its case and surrounding spaces', () => {
      expect(readJobAnswer('job_1', text({ id: 'job_1', status: '  Failed ' }))).toMatchObject({ kind: 'terminal', status: 'failed', event: 'job.failed' });
      expect(readJobAnswer('job_1', text({ id: 'job_1', status: ' Processing' }))).toMatchObject({ kind: 'open', status: 'processing' });
    });

    it('accepts a status of 64 characters', () => {
      expect(readJobAnswer('job_1', text({ id: 'job_1', status: 's'.repeat(64) }))).toMatchObject({ kind: 'open' });
    });

    it('accepts job_id alone, and id and job_id that agree', () => {
      expect(readJobAnswer('job_1', text({ job_id: 'job_1', status: 'processing' }))).toMatchObject({ kind: 'open' });
      expect(readJobAnswer('job_1', text({ id: 'job_1', job_id: 'job_1', status: 'processing' }))).toMatchObject({ kind: 'open' });
    });

    it('refuses job_id alone when it names another job', () => {
      expect(readJobAnswer('job_1', text({ job_id: 'job_2', status: 'processing' }))).toEqual({ kind: 'refused', reason: 'id_mismatch', issues: ['the answer names another job'] });
    });

    it('accepts null for every optional field, and a plain http output', () => {
      // Prepare
      const answer = {
        id: 'job_1',
        status: 'completed',
        output_url: 'HTTP://cdn.example.com/a.webm',
        progress: null,
        error: null,
        created_at: null,
        model: null,
        output_format: null,
        bg_type: null,
        credits_used: null,
      };

      // Act
      const reading = readJobAnswer('job_1', text(answer));

      // Assess
      expect(reading).toEqual({ kind: 'terminal', status: 'completed', event: 'job.completed', answer });
    });

    it('accepts job_id as an alias of id and keeps unknown fields', () => {
      const reading = readJobAnswer('job_1', text({ job_id: 'job_1', status: 'processing', webhook_events: [{ event: 'job.started', sent: true }] }));
      expect(reading).toMatchObject({ kind: 'open', answer: { webhook_events: [{ event: 'job.started', sent: true }] } });
    });
  });

  describe('refuses, so nothing changes,', () => {
    it.each([
      ['text that is not JSON', '<html>502 Bad Gateway</html>', 'invalid_json'],
      ['an answer without a status', text({ id: 'job_1' }), 'schema_violation'],
      ['a status that is not a string', text({ id: 'job_1', status: 3 }), 'schema_violation'],
      ['an answer about another job', text({ id: 'job_2', status: 'completed', output_url: 'https://cdn.example.com/a.webm' }), 'id_mismatch'],
      ['id and job_id that disagree', text({ id: 'job_1', job_id: 'job_2', status: 'failed' }), 'id_mismatch'],
      ['an answer without any id', text({ status: 'completed' }), 'schema_violation'],
      ['completed without an output', text({ id: 'job_1', status: 'completed' }), 'completed_without_output'],
      ['an output that is not a web URL', text({ id: 'job_1', status: 'completed', output_url: 'javascript:alert(1)' }), 'schema_violation'],
      ['an oversized field', text({ id: 'job_1', status: 'completed', output_url: `https://cdn.example.com/${'a'.repeat(3000)}` }), 'schema_violation'],
      ['an array', text([{ id: 'job_1', status: 'completed' }] as never), 'schema_violation'],
      ['null', 'null', 'schema_violation'],
    ])('%s', (_what, body, reason) => {
      expect(readJobAnswer('job_1', body)).toMatchObject({ kind: 'refused', reason });
    });

    it.each([
      ['not JSON', 'nope', 'invalid_json', ['answer is not JSON']],
      ['an empty status', text({ id: 'job_1', status: '' }), 'schema_violation', ['status: invalid min_length (expected >=1)']],
      ['a status over 64 characters', text({ id: 'job_1', status: 's'.repeat(65) }), 'schema_violation', ['status: invalid max_length (expected <=64)']],
      ['no id', text({ status: 'processing' }), 'schema_violation', ['id is required']],
      ['an empty id', text({ id: '', status: 'processing' }), 'schema_violation', ['id: invalid min_length (expected >=1)']],
      ['an id over 256 characters', text({ job_id: 'j'.repeat(257), status: 'processing' }), 'schema_violation', ['job_id: invalid max_length (expected <=256)']],
      ['an ftp output', text({ id: 'job_1', status: 'completed', output_url: 'ftp://cdn.example.com/a' }), 'schema_violation', ['output_url: invalid regex (expected /^https?:\\/\\//i)']],
      ['an output over 2048 characters', text({ id: 'job_1', status: 'completed', output_url: `https://c.example/${'a'.repeat(2031)}` }), 'schema_violation', ['output_url: invalid max_length (expected <=2048)']],
      ['a null output on completed', text({ id: 'job_1', status: 'completed', output_url: null }), 'completed_without_output', ['completed without output_url']],
      ['an error that is a number', text({ id: 'job_1', status: 'failed', error: 5 }), 'schema_violation', ['error: invalid union (expected (string | Object))']],
      ['an error string over 4096 characters', text({ id: 'job_1', status: 'failed', error: 'e'.repeat(4097) }), 'schema_violation', ['error: invalid max_length (expected <=4096)']],
      ['an empty error code', text({ id: 'job_1', status: 'failed', error: { code: '' } }), 'schema_violation', ['error.code: invalid min_length (expected >=1)']],
      ['a progress that is not a number', text({ id: 'job_1', status: 'processing', progress: '50%' }), 'schema_violation', ['progress: invalid number (expected number)']],
      ['a created_at that is not a string', text({ id: 'job_1', status: 'processing', created_at: 1 }), 'schema_violation', ['created_at: invalid string (expected string)']],
      ['an empty model', text({ id: 'job_1', status: 'processing', model: '' }), 'schema_violation', ['model: invalid min_length (expected >=1)']],
      ['an empty output format', text({ id: 'job_1', status: 'processing', output_format: '' }), 'schema_violation', ['output_format: invalid min_length (expected >=1)']],
      ['a background over 2048 characters', text({ id: 'job_1', status: 'processing', bg_type: 'b'.repeat(2049) }), 'schema_violation', ['bg_type: invalid max_length (expected <=2048)']],
      ['negative credits', text({ id: 'job_1', status: 'completed', output_url: 'https://c.example/a', credits_used: -1 }), 'schema_violation', ['credits_used: invalid min_value (expected >=0)']],
    ])('%s, saying why', (_what, body, reason, issues) => {
      expect(readJobAnswer('job_1', body)).toEqual({ kind: 'refused', reason, issues });
    });

    it('accepts the longest fields the bounds allow', () => {
      const answer = {
        id: 'j'.repeat(256),
        status: 'failed',
        error: { code: 'c'.repeat(2048), message: 'm'.repeat(4096) },
        model: 'm'.repeat(2048),
        output_url: `https://c.example/${'a'.repeat(2030)}`,
      };
      expect(readJobAnswer('j'.repeat(256), text(answer))).toMatchObject({ kind: 'terminal' });
      expect(readJobAnswer('job_1', text({ id: 'job_1', status: 'failed', error: 'e'.repeat(4096) }))).toMatchObject({ kind: 'terminal' });
    });

    it('names fields, never values, in its issues', () => {
      const reading = readJobAnswer('job_1', text({ id: 'job_1', status: 'completed', output_url: 'https://secret-token@cdn/x?token=abc', credits_used: 'many' }));
      expect(JSON.stringify(reading)).not.toContain('token=abc');
      expect(JSON.stringify(reading)).not.toContain('many');
    });
  });

  describe('the synthetic delivery', () => {
    it('is a webhook-shaped payload the worker accepts, with the answer beside it as evidence', () => {
      // Prepare
      const reading = readJobAnswer('job_1', text({ id: 'job_1', status: 'completed', output_url: 'https://cdn.example.com/a.webm', credits_used: 7, model: 'pro' }));
      if (reading.kind !== 'terminal') throw new Error('expected terminal');

      // Act
      const built = syntheticDelivery('job_1', reading, T0);

      // Assess
      if (!built.ok) throw new Error('expected a delivery');
      expect(built.delivery.deliveryId).toBe('reconcile:job_1:completed');
      const body = JSON.parse(new TextDecoder().decode(built.delivery.rawBody));
      expect(body).toMatchObject({
        event: 'job.completed',
        created_at: T0.toISOString(),
        data: { job_id: 'job_1', status: 'completed', output_url: 'https://cdn.example.com/a.webm', credits_used: 7, model: 'pro' },
        reconcile: { checked_at: T0.toISOString(), answer: { id: 'job_1', status: 'completed' } },
      });
      expect(checkParsedPayload(body, 'job.completed').ok).toBe(true);
    });

    it.each([
      ['an error object', { code: 'insufficient_credits', message: 'no credits' }, { code: 'insufficient_credits', message: 'no credits' }],
      ['an error string', 'decoder crashed', { code: 'unspecified', message: 'decoder crashed' }],
      ['no error at all', undefined, { code: 'unspecified', message: 'The provider reported the job failed without an error.' }],
    ])('turns a failure with %s into the webhook error shape', (_what, error, expected) => {
      const reading = readJobAnswer('job_1', text({ id: 'job_1', status: 'failed', ...(error === undefined ? {} : { error }) }));
      if (reading.kind !== 'terminal') throw new Error('expected terminal');
      const built = syntheticDelivery('job_1', reading, T0);
      expect(built.ok && built.delivery.payload.data.error).toEqual(expected);
    });

    it('copies the descriptive fields and credits the answer gives, and leaves out the null ones', () => {
      expect(dataOf({ id: 'job_1', status: 'completed', output_url: 'https://c.example/a', model: 'pro', output_format: 'mp4', bg_type: 'green', credits_used: 0 })).toEqual({
        job_id: 'job_1',
        status: 'completed',
        output_url: 'https://c.example/a',
        model: 'pro',
        output_format: 'mp4',
        bg_type: 'green',
        credits_used: 0,
      });
      expect(dataOf({ id: 'job_1', status: 'completed', output_url: 'https://c.example/a', model: null, output_format: null, bg_type: null, credits_used: null })).toEqual({
        job_id: 'job_1',
        status: 'completed',
        output_url: 'https://c.example/a',
      });
    });

    it('gives a failure its error and no output, and a completion its output and no error', () => {
      expect(dataOf({ id: 'job_1', status: 'failed', output_url: 'https://c.example/a', error: 'boom' })).toEqual({
        job_id: 'job_1',
        status: 'failed',
        error: { code: 'unspecified', message: 'boom' },
      });
      expect(dataOf({ id: 'job_1', status: 'completed', output_url: 'https://c.example/a', error: 'boom' })).toEqual({
        job_id: 'job_1',
        status: 'completed',
        output_url: 'https://c.example/a',
      });
    });

    it('fills a partial error object: no code is unspecified, no message is empty', () => {
      expect(dataOf({ id: 'job_1', status: 'failed', error: { code: null, message: null } }).error).toEqual({ code: 'unspecified', message: '' });
      expect(dataOf({ id: 'job_1', status: 'failed', error: { message: 'out of memory' } }).error).toEqual({ code: 'unspecified', message: 'out of memory' });
      expect(dataOf({ id: 'job_1', status: 'failed', error: { code: 'oom' } }).error).toEqual({ code: 'oom', message: '' });
    });

    it('is exactly the bytes of its payload, with the failed delivery id and event', () => {
      // Act
      const built = syntheticDelivery('job_1', terminal({ id: 'job_1', status: 'failed', error: 'boom' }), T0);

      // Assess
      if (!built.ok) throw new Error('expected a delivery');
      expect(built.delivery).toMatchObject({ deliveryId: 'reconcile:job_1:failed', event: 'job.failed' });
      expect(JSON.parse(new TextDecoder().decode(built.delivery.rawBody))).toEqual(built.delivery.payload);
      expect(built.delivery.payload).toMatchObject({
        event: 'job.failed',
        created_at: T0.toISOString(),
        reconcile: { source: 'GET /v1/jobs/{job_id}', checked_at: T0.toISOString(), answer: { id: 'job_1', status: 'failed', error: 'boom' } },
      });
    });

    it('refuses to build a delivery the worker would refuse, saying why', () => {
      // Prepare: a reading that did not come through readJobAnswer (an empty model)
      const reading = terminal({ id: 'job_1', status: 'completed', output_url: 'https://c.example/a' });
      const forged = { ...reading, answer: { ...reading.answer, model: '' } };

      // Act
      const built = syntheticDelivery('job_1', forged, T0);

      // Assess
      expect(built).toEqual({ ok: false, issues: ['schema_violation', 'data.model: invalid min_length (expected >=1)'] });
    });

    it('uses the job id in the delivery id when the pattern allows, and a stable hash otherwise', () => {
      expect(reconcileDeliveryId('job with spaces/é', 'completed')).toBe('reconcile:sha256-d855869259fcaac8767c980e84679e6f:completed');
      expect(reconcileDeliveryId('job_8f3a', 'failed')).toBe('reconcile:job_8f3a:failed');
      const odd = reconcileDeliveryId('job with spaces/é', 'completed');
      expect(odd).toMatch(/^reconcile:sha256-[0-9a-f]{32}:completed$/);
      expect(reconcileDeliveryId('job with spaces/é', 'completed')).toBe(odd);
      expect(DELIVERY_ID_PATTERN.test(odd)).toBe(true);
      expect(DELIVERY_ID_PATTERN.test(reconcileDeliveryId('j'.repeat(256), 'completed'))).toBe(true);
    });
  });
});
