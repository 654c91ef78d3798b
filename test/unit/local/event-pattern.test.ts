/**
 * The local stand-in's event patterns against the examples of the EventBridge
 * User Guide (the pages named in local/stand-ins/event-pattern.ts): each case
 * is one documented pattern and event, with the documented outcome.
 */
import { compilePattern, matchesPattern, UnsupportedPatternError } from '../../../local/stand-ins/event-pattern';

/** The guide's EC2 state-change event ("Creating Amazon EventBridge event patterns"). */
const EC2_EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** The guide's content-filtering event: numbers, a state, a source IP. */
const FILTERING_EVENT = {
  ...EC2_EVENT,
  detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8, 'source-ip': '10.0.0.123', state: 'initializing' },
};

describe('event patterns (local EventBridge stand-in)', () => {
  describe('exact values', () => {
    it('match the documented instance-termination pattern, field by field (AND)', () => {
      const pattern = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } };
      expect(matchesPattern(pattern, EC2_EVENT)).toBe(true);
      expect(matchesPattern(pattern, { ...EC2_EVENT, detail: { ...EC2_EVENT.detail, state: 'running' } })).toBe(false);
    });

    it('match when any listed value equals the field (OR)', () => {
      expect(matchesPattern({ detail: { state: ['running', 'terminated'] } }, EC2_EVENT)).toBe(true);
    });

    it('do not match a field the event lacks', () => {
      expect(matchesPattern({ detail: { zone: ['us-west-1a'] } }, EC2_EVENT)).toBe(false);
    });

    it('match an array field when the pattern and the array intersect', () => {
      // The guide's "Matching on multiple values": the pattern's first ARN is the event's second.
      const pattern = {
        resources: [
          'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
          'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
          'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
        ],
      };
      const event = {
        resources: [
          'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
          'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        ],
      };
      expect(matchesPattern(pattern, event)).toBe(true);
      expect(matchesPattern(pattern, { resources: [event.resources[0]] })).toBe(false);
    });

    it('tell null from the empty string, as the guide says', () => {
      const event = { detail: { eventVersion: '', responseElements: null } };
      expect(matchesPattern({ detail: { eventVersion: [''] } }, event)).toBe(true);
      expect(matchesPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
      expect(matchesPattern({ detail: { responseElements: [''] } }, event)).toBe(false);
      expect(matchesPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
    });

    it('match numbers as numbers', () => {
      expect(matchesPattern({ detail: { 'c-count': [5] } }, FILTERING_EVENT)).toBe(true);
      expect(matchesPattern({ detail: { 'c-count': ['5'] } }, FILTERING_EVENT)).toBe(false);
    });
  });

  describe('prefix and suffix', () => {
    it('match the documented date prefix and region prefix', () => {
      expect(matchesPattern({ time: [{ prefix: '2017-12-22' }] }, EC2_EVENT)).toBe(true);
      expect(matchesPattern({ source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] }, { source: 'aws.autoscaling', region: 'eu-west-1' })).toBe(true);
      expect(matchesPattern({ region: [{ prefix: 'eu-' }] }, EC2_EVENT)).toBe(false);
    });

    it('match the documented .png suffix', () => {
      expect(matchesPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'dir/cat.png' })).toBe(true);
      expect(matchesPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'dir/cat.jpg' })).toBe(false);
    });

    it('match only strings', () => {
      expect(matchesPattern({ detail: { 'c-count': [{ prefix: '5' }] } }, FILTERING_EVENT)).toBe(false);
    });
  });

  describe('anything-but', () => {
    it('matches anything except the documented string, number and lists', () => {
      expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, FILTERING_EVENT)).toBe(false);
      expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, EC2_EVENT)).toBe(true);
      expect(matchesPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, FILTERING_EVENT)).toBe(true);
      expect(matchesPattern({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, EC2_EVENT)).toBe(true);
      expect(matchesPattern({ detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, EC2_EVENT)).toBe(false);
      expect(matchesPattern({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, FILTERING_EVENT)).toBe(true);
    });

    it('matches anything without the documented prefix', () => {
      expect(matchesPattern({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, FILTERING_EVENT)).toBe(false);
      expect(matchesPattern({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, EC2_EVENT)).toBe(true);
    });

    it('does not match a field the event lacks', () => {
      expect(matchesPattern({ detail: { zone: [{ 'anything-but': 'x' }] } }, EC2_EVENT)).toBe(false);
    });
  });

  describe('numeric', () => {
    it('matches the documented ranges on JSON numbers', () => {
      const pattern = {
        detail: {
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ numeric: ['=', 3.018e2] }],
        },
      };
      expect(matchesPattern(pattern, FILTERING_EVENT)).toBe(true);
      expect(matchesPattern(pattern, { detail: { ...FILTERING_EVENT.detail, 'c-count': 6 } })).toBe(false);
    });

    it('refuses bounds beyond ±1.0e9, as EventBridge does', () => {
      expect(() => compilePattern({ n: [{ numeric: ['<', 2e9] }] })).toThrow(UnsupportedPatternError);
    });
  });

  describe('exists', () => {
    it('matches a present leaf with true and an absent one with false', () => {
      expect(matchesPattern({ detail: { state: [{ exists: true }] } }, EC2_EVENT)).toBe(true);
      expect(matchesPattern({ detail: { 'c-count': [{ exists: false }] } }, EC2_EVENT)).toBe(true);
      expect(matchesPattern({ detail: { 'c-count': [{ exists: false }] } }, FILTERING_EVENT)).toBe(false);
    });

    it('does not count an object as a leaf', () => {
      expect(matchesPattern({ detail: [{ exists: true }] }, EC2_EVENT)).toBe(false);
    });
  });

  describe('equals-ignore-case', () => {
    it('matches the documented name in any case', () => {
      expect(matchesPattern({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alice' })).toBe(true);
      expect(matchesPattern({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alicia' })).toBe(false);
    });
  });

  describe('the patterns this stack uses', () => {
    it('routes a completed job with a difficult scene tag to the review, and no other', () => {
      const review = { source: ['webhook-ingestion.jobs'], 'detail-type': ['Job Completed'], detail: { product: { sceneTags: ['hair', 'glass', 'motion_blur'] } } };
      const completed = { source: 'webhook-ingestion.jobs', 'detail-type': 'Job Completed', detail: { product: { sceneTags: ['sky', 'hair'] } } };
      expect(matchesPattern(review, completed)).toBe(true);
      expect(matchesPattern(review, { ...completed, detail: { product: { sceneTags: ['sky'] } } })).toBe(false);
      expect(matchesPattern(review, { ...completed, 'detail-type': 'Job Started' })).toBe(false);
      expect(matchesPattern(review, { ...completed, detail: { product: {} } })).toBe(false);
    });

    it("lets through the stream records the publisher's filter admits, and only those", () => {
      const filter = { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { status: { S: ['started', 'completed', 'failed'] } } } };
      const record = (eventName: string, status?: string) => ({ eventName, dynamodb: { NewImage: status === undefined ? { jobId: { S: 'j' } } : { status: { S: status } } } });
      expect(matchesPattern(filter, record('MODIFY', 'completed'))).toBe(true);
      expect(matchesPattern(filter, record('REMOVE', 'completed'))).toBe(false);
      expect(matchesPattern(filter, record('INSERT'))).toBe(false);
      expect(matchesPattern(filter, record('INSERT', 'queued'))).toBe(false);
    });
  });

  describe('what the stand-in does not implement', () => {
    it.each([
      ['wildcard', { FilePath: [{ wildcard: 'dir/*.png' }] }],
      ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }],
      ['$or', { $or: [{ a: ['x'] }, { b: ['y'] }] }],
      ['prefix ignoring case', { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }],
    ])('refuses %s when the pattern is compiled, never matching differently from AWS', (_name, pattern) => {
      expect(() => compilePattern(pattern)).toThrow(UnsupportedPatternError);
    });

    it('refuses an empty pattern and an empty match list', () => {
      expect(() => compilePattern({})).toThrow(UnsupportedPatternError);
      expect(() => compilePattern({ source: [] })).toThrow(UnsupportedPatternError);
    });
  });
});
