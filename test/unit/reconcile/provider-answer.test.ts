import { DELIVERY_ID_PATTERN } from '../../../lambda/core/contract';
import { checkParsedPayload } from '../../../lambda/core/payload';
import { readJobAnswer, reconcileDeliveryId, syntheticDelivery } from '../../../lambda/core/reconcile/provider-answer';
import { T0 } from './support';

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

    it('uses the job id in the delivery id when the pattern allows, and a stable hash otherwise', () => {
      expect(reconcileDeliveryId('job_8f3a', 'failed')).toBe('reconcile:job_8f3a:failed');
      const odd = reconcileDeliveryId('job with spaces/é', 'completed');
      expect(odd).toMatch(/^reconcile:sha256-[0-9a-f]{32}:completed$/);
      expect(reconcileDeliveryId('job with spaces/é', 'completed')).toBe(odd);
      expect(DELIVERY_ID_PATTERN.test(odd)).toBe(true);
      expect(DELIVERY_ID_PATTERN.test(reconcileDeliveryId('j'.repeat(256), 'completed'))).toBe(true);
    });
  });
});
