import fc from 'fast-check';
import { EVENT_TYPES, type EventType } from '../../../lambda/core/contract';
import { OUTPUT_URL_MAX_CHARS, checkParsedPayload, checkPayload, isEventType, normaliseInstant, toJobEvent, type WebhookPayload } from '../../../lambda/core/payload';

const META = { event: 'job.started' as EventType, deliveryId: 'dlv_1', timestamp: '2026-11-27T10:00:00Z' };

function issuesOf(json: unknown, event: EventType = 'job.started'): string[] {
  const check = checkParsedPayload(json, event);
  return check.ok ? [] : check.issues;
}

function parsed(json: unknown, event: EventType = 'job.started'): WebhookPayload {
  const check = checkParsedPayload(json, event);
  if (!check.ok) throw new Error(`expected a valid payload, got ${check.issues.join('; ')}`);
  return check.payload;
}

describe('checkPayload', () => {
  it('calls a body that is not JSON invalid_json, without quoting it', () => {
    // Act
    const check = checkPayload('{"data": secret-token', 'job.started');

    // Assess
    expect(check).toEqual({ ok: false, reason: 'invalid_json', issues: ['body is not valid JSON'] });
  });

  it('accepts a minimal job.started, keeps unknown fields and names the job', () => {
    // Act
    const check = checkPayload('{"data":{"job_id":"job_1","extra":{"a":1}},"top":true}', 'job.started');

    // Assess
    expect(check).toEqual({ ok: true, jobId: 'job_1', payload: { data: { job_id: 'job_1', extra: { a: 1 } }, top: true } });
  });
});

describe('checkParsedPayload', () => {
  describe('the job id', () => {
    it('takes data.id as an alias of data.job_id', () => {
      expect(checkParsedPayload({ data: { id: 'job_2' } }, 'job.started')).toMatchObject({ ok: true, jobId: 'job_2' });
    });

    it('accepts both when they agree', () => {
      expect(checkParsedPayload({ data: { id: 'job_2', job_id: 'job_2' } }, 'job.started')).toMatchObject({ ok: true, jobId: 'job_2' });
    });

    it('refuses both when they disagree', () => {
      expect(checkParsedPayload({ data: { id: 'job_2', job_id: 'job_3' } }, 'job.started')).toEqual({
        ok: false,
        reason: 'schema_violation',
        issues: ['data: data.job_id and data.id disagree'],
      });
    });

    it('refuses a payload that names no job', () => {
      expect(checkParsedPayload({ data: { status: 'processing' } }, 'job.started')).toEqual({
        ok: false,
        reason: 'schema_violation',
        issues: ['data: data.job_id (or data.id) is required'],
      });
    });

    it('accepts ids of 1 to 256 characters and refuses an empty or longer one', () => {
      expect(checkParsedPayload({ data: { job_id: 'j' } }, 'job.started').ok).toBe(true);
      expect(checkParsedPayload({ data: { job_id: 'j'.repeat(256) } }, 'job.started').ok).toBe(true);
      expect(issuesOf({ data: { job_id: '' } })).toEqual(['data.job_id: invalid min_length (expected >=1)']);
      expect(issuesOf({ data: { job_id: 'j'.repeat(257) } })).toEqual(['data.job_id: invalid max_length (expected <=256)']);
      expect(issuesOf({ data: { id: 'j'.repeat(257) } })).toEqual(['data.id: invalid max_length (expected <=256)']);
      expect(issuesOf({ data: { id: '' } })).toEqual(['data.id: invalid min_length (expected >=1)']);
    });
  });

  describe('the descriptive fields', () => {
    it.each(['model', 'output_format', 'bg_type', 'background', 'video_url', 'input_url'])(
      'bounds %s to 1 .. 2048 characters',
      (field) => {
        expect(checkParsedPayload({ data: { job_id: 'j', [field]: 'x' } }, 'job.started').ok).toBe(true);
        expect(checkParsedPayload({ data: { job_id: 'j', [field]: 'x'.repeat(2048) } }, 'job.started').ok).toBe(true);
        expect(issuesOf({ data: { job_id: 'j', [field]: '' } })).toEqual([`data.${field}: invalid min_length (expected >=1)`]);
        expect(issuesOf({ data: { job_id: 'j', [field]: 'x'.repeat(2049) } })).toEqual([`data.${field}: invalid max_length (expected <=2048)`]);
      },
    );

    it('stores option values it has never heard of as given', () => {
      expect(parsed({ data: { job_id: 'j', model: 'ultra-9000', output_format: 'avif' } }).data).toMatchObject({ model: 'ultra-9000', output_format: 'avif' });
    });

    it('wants data.status to be a string when present', () => {
      expect(issuesOf({ data: { job_id: 'j', status: 3 } })).toEqual(['data.status: invalid string (expected string)']);
    });

    it('wants created_at to be a string when present', () => {
      expect(issuesOf({ created_at: 1795773600, data: { job_id: 'j' } })).toEqual(['created_at: invalid string (expected string)']);
    });
  });

  describe('the outcome fields', () => {
    it('bounds output_url to OUTPUT_URL_MAX_CHARS and wants a URL', () => {
      const url = (length: number) => `https://cdn.example.com/${'a'.repeat(length - 'https://cdn.example.com/'.length)}`;
      expect(checkParsedPayload({ data: { job_id: 'j', output_url: url(OUTPUT_URL_MAX_CHARS) } }, 'job.completed').ok).toBe(true);
      expect(issuesOf({ data: { job_id: 'j', output_url: url(OUTPUT_URL_MAX_CHARS + 1) } }, 'job.completed')).toEqual([
        `data.output_url: invalid max_length (expected <=${OUTPUT_URL_MAX_CHARS})`,
      ]);
      expect(issuesOf({ data: { job_id: 'j', output_url: 'not a url' } }, 'job.completed')).toEqual(['data.output_url: invalid url']);
    });

    it('wants credits_used to be a finite number of at least 0', () => {
      expect(checkParsedPayload({ data: { job_id: 'j', credits_used: 0 } }, 'job.started').ok).toBe(true);
      expect(issuesOf({ data: { job_id: 'j', credits_used: -0.5 } })).toEqual(['data.credits_used: invalid min_value (expected >=0)']);
      expect(issuesOf({ data: { job_id: 'j', credits_used: Infinity } })).toEqual(['data.credits_used: invalid finite']);
      expect(issuesOf({ data: { job_id: 'j', credits_used: '12' } })).toEqual(['data.credits_used: invalid number (expected number)']);
    });

    it('wants an error with a non-empty code and a message of at most 4096 characters', () => {
      expect(checkParsedPayload({ data: { job_id: 'j', error: { code: 'c', message: '' } } }, 'job.failed').ok).toBe(true);
      expect(checkParsedPayload({ data: { job_id: 'j', error: { code: 'c', message: 'm'.repeat(4096) } } }, 'job.failed').ok).toBe(true);
      expect(issuesOf({ data: { job_id: 'j', error: { code: '', message: 'm' } } }, 'job.failed')).toEqual(['data.error.code: invalid min_length (expected >=1)']);
      expect(issuesOf({ data: { job_id: 'j', error: { code: 'c', message: 'm'.repeat(4097) } } }, 'job.failed')).toEqual([
        'data.error.message: invalid max_length (expected <=4096)',
      ]);
    });
  });

  describe('the event', () => {
    it('refuses an event name it does not know', () => {
      expect(issuesOf({ event: 'job.paused', data: { job_id: 'j' } })).toEqual([
        'event: invalid picklist (expected ("job.started" | "job.completed" | "job.failed"))',
      ]);
    });

    it('calls a body event that differs from the header event event_mismatch', () => {
      expect(checkParsedPayload({ event: 'job.started', data: { job_id: 'j' } }, 'job.failed')).toEqual({
        ok: false,
        reason: 'event_mismatch',
        issues: ['body event does not match X-Webhook-Event'],
      });
    });

    it('accepts a body without an event, judged by the header event', () => {
      expect(checkParsedPayload({ data: { job_id: 'j' } }, 'job.started').ok).toBe(true);
      expect(checkParsedPayload({ event: 'job.started', data: { job_id: 'j' } }, 'job.started').ok).toBe(true);
    });

    it('wants an output_url on job.completed', () => {
      expect(checkParsedPayload({ data: { job_id: 'j' } }, 'job.completed')).toEqual({
        ok: false,
        reason: 'schema_violation',
        issues: ['data.output_url is required on job.completed'],
      });
      expect(checkParsedPayload({ event: 'job.completed', data: { job_id: 'j', output_url: 'https://x.example/o' } }, 'job.completed').ok).toBe(true);
    });

    it('wants an error on job.failed', () => {
      expect(checkParsedPayload({ event: 'job.failed', data: { job_id: 'j' } }, 'job.failed')).toEqual({
        ok: false,
        reason: 'schema_violation',
        issues: ['data.error is required on job.failed'],
      });
      expect(checkParsedPayload({ data: { job_id: 'j', error: { code: 'c', message: 'm' } } }, 'job.failed').ok).toBe(true);
    });

    it('asks for neither an output nor an error on job.started', () => {
      expect(checkParsedPayload({ data: { job_id: 'j' } }, 'job.started').ok).toBe(true);
    });
  });

  describe('the issue list', () => {
    it('names the place and the rule, never the value', () => {
      // Prepare
      const secret = 'https://x.example/?token=s3cr3t';

      // Act
      const issues = issuesOf({ data: { job_id: 'j', model: 'm'.repeat(2049) + secret, credits_used: secret } });

      // Assess
      expect(issues).toEqual(['data.model: invalid max_length (expected <=2048)', 'data.credits_used: invalid number (expected number)']);
      expect(issues.join(' ')).not.toContain('s3cr3t');
    });

    it('has no place for a problem with the whole body', () => {
      expect(issuesOf('a string')).toEqual(['invalid loose_object (expected Object)']);
    });
  });
});

describe('isEventType', () => {
  it.each(EVENT_TYPES)('knows %s', (event) => {
    expect(isEventType(event)).toBe(true);
  });

  it.each([undefined, '', 'job.paused', 'JOB.STARTED'])('does not know %p', (value) => {
    expect(isEventType(value)).toBe(false);
  });
});

describe('normaliseInstant', () => {
  it('gives nothing for nothing', () => {
    expect(normaliseInstant(undefined)).toBeUndefined();
  });

  it.each([
    ['2026-01-15T10:00:00Z', '2026-01-15T10:00:00.000Z'],
    ['2026-01-31T23:59:59Z', '2026-01-31T23:59:59.000Z'],
    ['2026-02-28T00:00:00Z', '2026-02-28T00:00:00.000Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['2026-04-30T12:00:00Z', '2026-04-30T12:00:00.000Z'],
    ['2026-12-31T12:00:00Z', '2026-12-31T12:00:00.000Z'],
    ['2026-11-27T10:00:00.5Z', '2026-11-27T10:00:00.500Z'],
    ['2026-11-27T10:00:00.123456789Z', '2026-11-27T10:00:00.123Z'],
    ['2026-11-27T11:00:00+01:00', '2026-11-27T10:00:00.000Z'],
    ['2026-11-27T04:30:00-05:30', '2026-11-27T10:00:00.000Z'],
    ['2026-11-28T09:59:00+23:59', '2026-11-27T10:00:00.000Z'],
    ['2026-11-27T10:00:00+00:00', '2026-11-27T10:00:00.000Z'],
    ['2026-11-27T10:00:00.1239Z', '2026-11-27T10:00:00.123Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['0000-02-29T12:00:00Z', '0000-02-29T12:00:00.000Z'],
    ['0099-12-31T23:59:59.999Z', '0099-12-31T23:59:59.999Z'],
  ])('normalises %s to %s', (value, expected) => {
    expect(normaliseInstant(value)).toBe(expected);
  });

  it.each([
    ['no zone', '2026-11-27T10:00:00'],
    ['month 0', '2026-00-10T10:00:00Z'],
    ['month 13', '2026-13-10T10:00:00Z'],
    ['day 0', '2026-11-00T10:00:00Z'],
    ['the 29th of February of a common year', '2026-02-29T10:00:00Z'],
    ['the 29th of February of a century that is not a leap year', '2100-02-29T10:00:00Z'],
    ['the 30th of February', '2028-02-30T10:00:00Z'],
    ['the 31st of April', '2026-04-31T10:00:00Z'],
    ['the 32nd of January', '2026-01-32T10:00:00Z'],
    ['hour 24', '2026-11-27T24:00:00Z'],
    ['hour 24 with nothing after it', '2026-11-27T24:00:00.000Z'],
    ['minute 60', '2026-11-27T10:60:00Z'],
    ['second 60', '2026-11-27T10:00:60Z'],
    ['an offset of 24 hours', '2026-11-27T10:00:00+24:00'],
    ['an offset minute of 60', '2026-11-27T10:00:00-01:60'],
    ['ten fraction digits', '2026-11-27T10:00:00.1234567890Z'],
    ['an empty fraction', '2026-11-27T10:00:00.Z'],
    ['a leading space', ' 2026-11-27T10:00:00Z'],
    ['a trailing character', '2026-11-27T10:00:00Zx'],
    ['a compact offset', '2026-11-27T10:00:00+0100'],
    ['a lowercase t', '2026-11-27t10:00:00Z'],
  ])('gives nothing for %s', (_name, value) => {
    expect(normaliseInstant(value)).toBeUndefined();
  });

  it('gives back every UTC instant it is handed, to the millisecond', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (date) => {
        expect(normaliseInstant(date.toISOString())).toBe(date.toISOString());
      }),
    );
  });

  it('reads every offset to the same instant', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0000-01-02T00:00:00Z'), max: new Date('9998-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        (date, offsetMinutes) => {
          // Prepare: the same instant written as wall-clock time at the offset
          const local = new Date(date.getTime() + offsetMinutes * 60000).toISOString().slice(0, 23);
          const abs = Math.abs(offsetMinutes);
          const zone = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;

          // Act / Assess
          expect(normaliseInstant(`${local}${zone}`)).toBe(date.toISOString());
        },
      ),
    );
  });
});

describe('toJobEvent', () => {
  it('maps every field of a job.completed', () => {
    // Prepare
    const payload = parsed(
      {
        created_at: '2026-11-27T11:00:00+01:00',
        data: {
          job_id: 'job_1',
          model: 'pro',
          output_format: 'mp4',
          bg_type: 'green',
          video_url: 'https://in.example/v.mp4',
          output_url: 'https://out.example/o.mp4',
          credits_used: 7,
          error: { code: 'ignored', message: 'a completed job has no error' },
        },
      },
      'job.completed',
    );

    // Act
    const event = toJobEvent(payload, { ...META, event: 'job.completed' });

    // Assess
    expect(event).toEqual({
      jobId: 'job_1',
      deliveryId: 'dlv_1',
      event: 'job.completed',
      eventAt: '2026-11-27T10:00:00.000Z',
      model: 'pro',
      outputFormat: 'mp4',
      background: 'green',
      inputRef: 'https://in.example/v.mp4',
      outputUrl: 'https://out.example/o.mp4',
      error: undefined,
      creditsUsed: 7,
      replay: undefined,
    });
    expect('origin' in event).toBe(false);
  });

  it('keeps the error of a job.failed, its code and message only, and no output', () => {
    // Prepare
    const payload = parsed(
      { data: { id: 'job_1', output_url: 'https://out.example/o.mp4', error: { code: 'insufficient_credits', message: 'not enough', extra: 1 } } },
      'job.failed',
    );

    // Act
    const event = toJobEvent(payload, { ...META, event: 'job.failed' });

    // Assess
    expect(event.jobId).toBe('job_1');
    expect(event.error).toEqual({ code: 'insufficient_credits', message: 'not enough' });
    expect(event.outputUrl).toBeUndefined();
  });

  it('keeps neither an output nor an error on a job.started', () => {
    // Prepare
    const payload = parsed({ data: { job_id: 'job_1', output_url: 'https://out.example/o.mp4', error: { code: 'c', message: 'm' } } });

    // Act
    const event = toJobEvent(payload, META);

    // Assess
    expect(event.outputUrl).toBeUndefined();
    expect(event.error).toBeUndefined();
  });

  it('falls back to the alias fields', () => {
    // Prepare
    const payload = parsed({ data: { id: 'job_1', background: 'white', input_url: 'https://in.example/v.mov' } });

    // Act
    const event = toJobEvent(payload, META);

    // Assess
    expect(event).toMatchObject({ jobId: 'job_1', background: 'white', inputRef: 'https://in.example/v.mov' });
  });

  it('prefers bg_type and video_url over their aliases', () => {
    // Prepare
    const payload = parsed({ data: { job_id: 'job_1', bg_type: 'blue', background: 'white', video_url: 'https://a.example/1', input_url: 'https://b.example/2' } });

    // Act
    const event = toJobEvent(payload, META);

    // Assess
    expect(event).toMatchObject({ background: 'blue', inputRef: 'https://a.example/1' });
  });

  it('carries the replay mark and the origin when given', () => {
    // Prepare
    const payload = parsed({ data: { job_id: 'job_1' } });

    // Act
    const event = toJobEvent(payload, { ...META, replay: true, origin: 'replay' });

    // Assess
    expect(event).toMatchObject({ replay: true, origin: 'replay' });
  });

  describe('the event time', () => {
    it('is the payload created_at, normalised', () => {
      const payload = parsed({ created_at: '2026-11-27T09:00:00.25Z', data: { job_id: 'j' } });
      expect(toJobEvent(payload, META).eventAt).toBe('2026-11-27T09:00:00.250Z');
    });

    it('is the signed timestamp, normalised, when created_at is absent or malformed', () => {
      const timestamp = '2026-11-27T12:00:00+02:00';
      expect(toJobEvent(parsed({ data: { job_id: 'j' } }), { ...META, timestamp }).eventAt).toBe('2026-11-27T10:00:00.000Z');
      expect(toJobEvent(parsed({ created_at: 'yesterday', data: { job_id: 'j' } }), { ...META, timestamp }).eventAt).toBe('2026-11-27T10:00:00.000Z');
    });

    it('is the timestamp as given when neither can be read', () => {
      expect(toJobEvent(parsed({ created_at: 'yesterday', data: { job_id: 'j' } }), { ...META, timestamp: 'today' }).eventAt).toBe('today');
    });
  });
});
