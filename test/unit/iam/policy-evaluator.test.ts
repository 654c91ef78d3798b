/**
 * The evaluator against AWS's documented policy-evaluation rules (IAM User
 * Guide: "Policy evaluation logic", "Determining whether a request is allowed
 * or denied within an account", "IAM JSON policy elements: Condition
 * operators", "Amazon Resource Names"), one rule per test.
 */
import { evaluate, UnsupportedPolicyError, type EvaluationRequest, type NamedPolicy, type PolicyStatement } from '../../../local/iam/policy-evaluator';

const ROLE = 'arn:aws:iam::111122223333:role/worker';
const QUEUE = 'arn:aws:sqs:eu-west-1:111122223333:work';
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234';

function request(overrides: Partial<EvaluationRequest> = {}): EvaluationRequest {
  return {
    principalArn: ROLE,
    principalAccount: '111122223333',
    action: 'sqs:SendMessage',
    resource: QUEUE,
    context: { 'aws:SecureTransport': 'true' },
    ...overrides,
  };
}

function policy(name: string, ...statements: PolicyStatement[]): NamedPolicy {
  return { name, document: { Version: '2012-10-17', Statement: statements } };
}

const allowSend = policy('identity', { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE });
const tlsOnly = policy('queuePolicy', {
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'sqs:*',
  Resource: QUEUE,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('policy evaluation', () => {
  describe('the decision', () => {
    it('denies by default: no statement, no access', () => {
      expect(evaluate(request(), { identity: [] }).decision).toBe('implicit-deny');
    });

    it('allows what an identity policy allows', () => {
      const decision = evaluate(request(), { identity: [allowSend] });
      expect(decision.decision).toBe('allow');
      expect(decision.allowedBy).toEqual([expect.objectContaining({ policy: 'identity', index: 0, kind: 'identity' })]);
    });

    it('lets an explicit deny win over any allow, in the same policy or another', () => {
      const deny = policy('deny', { Effect: 'Deny', Action: 'sqs:SendMessage', Resource: '*' });
      expect(evaluate(request(), { identity: [allowSend, deny] }).decision).toBe('explicit-deny');
    });

    it('lets an explicit deny in the resource policy win over an identity allow', () => {
      const decision = evaluate(request({ context: { 'aws:SecureTransport': 'false' } }), { identity: [allowSend], resource: tlsOnly });
      expect(decision.decision).toBe('explicit-deny');
      expect(decision.deniedBy).toEqual([expect.objectContaining({ policy: 'queuePolicy', kind: 'resource' })]);
    });

    it('applies no deny whose condition does not match: TLS requests pass a TLS-only queue policy', () => {
      expect(evaluate(request(), { identity: [allowSend], resource: tlsOnly }).decision).toBe('allow');
    });

    it('within one account, allows what the resource policy grants the principal even with no identity allow (the union)', () => {
      const queuePolicy = policy('queuePolicy', { Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'sqs:SendMessage', Resource: QUEUE });
      expect(evaluate(request(), { identity: [], resource: queuePolicy }).decision).toBe('allow');
    });

    it('does not let a resource policy that names only the account allow on its own: identity policies decide', () => {
      const queuePolicy = policy('queuePolicy', { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'sqs:*', Resource: QUEUE });
      expect(evaluate(request(), { identity: [], resource: queuePolicy }).decision).toBe('implicit-deny');
      expect(evaluate(request(), { identity: [allowSend], resource: queuePolicy }).decision).toBe('allow');
    });

    it('ignores resource statements for other principals, services included', () => {
      const other = policy('queuePolicy', { Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: QUEUE });
      expect(evaluate(request(), { identity: [], resource: other }).decision).toBe('implicit-deny');
    });
  });

  describe('KMS keys', () => {
    const decrypt = request({ action: 'kms:Decrypt', resource: KEY });
    const identityDecrypt = policy('identity', { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY });

    it('deny a principal whose identity policy allows when the key policy does not delegate to the account', () => {
      const keyPolicy = policy('key', { Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'kms:*', Resource: '*' });
      expect(evaluate(decrypt, { identity: [identityDecrypt], resource: keyPolicy, resourceIsKmsKey: true }).decision).toBe('implicit-deny');
    });

    it('allow with an identity allow when the key policy names the account (kms:* to :root)', () => {
      const keyPolicy = policy('key', { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' });
      expect(evaluate(decrypt, { identity: [identityDecrypt], resource: keyPolicy, resourceIsKmsKey: true }).decision).toBe('allow');
      expect(evaluate(decrypt, { identity: [], resource: keyPolicy, resourceIsKmsKey: true }).decision).toBe('implicit-deny');
    });

    it('allow when the key policy names the role itself', () => {
      const keyPolicy = policy('key', { Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'kms:Decrypt', Resource: '*' });
      expect(evaluate(decrypt, { identity: [], resource: keyPolicy, resourceIsKmsKey: true }).decision).toBe('allow');
    });
  });

  describe('actions', () => {
    it('match case-insensitively', () => {
      expect(evaluate(request({ action: 'SQS:sendmessage' }), { identity: [allowSend] }).decision).toBe('allow');
    });

    it('match * and ? wildcards, and nothing else', () => {
      const wild = policy('identity', { Effect: 'Allow', Action: ['sqs:Send*', 'sqs:?eceiveMessage'], Resource: '*' });
      expect(evaluate(request({ action: 'sqs:SendMessageBatch' }), { identity: [wild] }).decision).toBe('allow');
      expect(evaluate(request({ action: 'sqs:ReceiveMessage' }), { identity: [wild] }).decision).toBe('allow');
      expect(evaluate(request({ action: 'sqs:DeleteMessage' }), { identity: [wild] }).decision).toBe('implicit-deny');
    });

    it('NotAction allows everything except what it names', () => {
      const notAction = policy('identity', { Effect: 'Allow', NotAction: 'sqs:Delete*', Resource: '*' });
      expect(evaluate(request(), { identity: [notAction] }).decision).toBe('allow');
      expect(evaluate(request({ action: 'sqs:DeleteMessage' }), { identity: [notAction] }).decision).toBe('implicit-deny');
    });
  });

  describe('resources', () => {
    it('match an exact ARN only', () => {
      expect(evaluate(request({ resource: `${QUEUE}-dlq` }), { identity: [allowSend] }).decision).toBe('implicit-deny');
    });

    it('match object ARNs under a prefix wildcard, slashes included', () => {
      const objects = policy('identity', { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::archive/raw/*' });
      const get = (key: string): string => evaluate(request({ action: 's3:GetObject', resource: `arn:aws:s3:::archive/${key}` }), { identity: [objects] }).decision;
      expect(get('raw/2026/11/27/10/dlv_1.json')).toBe('allow');
      expect(get('other/dlv_1.json')).toBe('implicit-deny');
    });

    it('match ARN component by component: a wildcard does not stretch across the colons of region and account', () => {
      const anyQueueHere = policy('identity', { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:eu-west-1:*' });
      expect(evaluate(request(), { identity: [anyQueueHere] }).decision).toBe('implicit-deny');
      const anyQueue = policy('identity', { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:*:*:*' });
      expect(evaluate(request(), { identity: [anyQueue] }).decision).toBe('allow');
    });

    it('NotResource allows every resource but those it names', () => {
      const notDlq = policy('identity', { Effect: 'Allow', Action: 'sqs:SendMessage', NotResource: `${QUEUE}-dlq` });
      expect(evaluate(request(), { identity: [notDlq] }).decision).toBe('allow');
      expect(evaluate(request({ resource: `${QUEUE}-dlq` }), { identity: [notDlq] }).decision).toBe('implicit-deny');
    });
  });

  describe('conditions', () => {
    const list = (context: EvaluationRequest['context'], condition: PolicyStatement['Condition']): string =>
      evaluate(request({ action: 's3:ListBucket', resource: 'arn:aws:s3:::archive', context }), {
        identity: [policy('identity', { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::archive', Condition: condition })],
      }).decision;

    it('StringLike matches wildcards against the request key (s3:prefix)', () => {
      const raw = { StringLike: { 's3:prefix': ['raw/*'] } };
      expect(list({ 's3:prefix': 'raw/2026/11/' }, raw)).toBe('allow');
      expect(list({ 's3:prefix': 'other/' }, raw)).toBe('implicit-deny');
    });

    it('fails a positive operator when the key is absent: a listing without a prefix is not allowed by a prefix condition', () => {
      expect(list({}, { StringLike: { 's3:prefix': ['raw/*'] } })).toBe('implicit-deny');
    });

    it('satisfies a negated operator when the key is absent, and IfExists when it is', () => {
      expect(list({}, { StringNotEquals: { 's3:prefix': 'secret/' } })).toBe('allow');
      expect(list({}, { StringLikeIfExists: { 's3:prefix': 'raw/*' } })).toBe('allow');
      expect(list({ 's3:prefix': 'x/' }, { StringLikeIfExists: { 's3:prefix': 'raw/*' } })).toBe('implicit-deny');
    });

    it('ORs the values of one key and ANDs the keys and operators', () => {
      expect(list({ 's3:prefix': 'b/' }, { StringEquals: { 's3:prefix': ['a/', 'b/'] } })).toBe('allow');
      const both = { StringEquals: { 's3:prefix': 'a/', 's3:delimiter': '/' } };
      expect(list({ 's3:prefix': 'a/', 's3:delimiter': '/' }, both)).toBe('allow');
      expect(list({ 's3:prefix': 'a/' }, both)).toBe('implicit-deny');
      expect(list({ 's3:prefix': 'a/', 's3:max-keys': 5 }, { StringEquals: { 's3:prefix': 'a/' }, NumericLessThan: { 's3:max-keys': 10 } })).toBe('allow');
    });

    it('negated operators match when no value matches', () => {
      expect(list({ 's3:prefix': 'b/' }, { StringNotEquals: { 's3:prefix': ['a/', 'b/'] } })).toBe('implicit-deny');
      expect(list({ 's3:prefix': 'c/' }, { StringNotEquals: { 's3:prefix': ['a/', 'b/'] } })).toBe('allow');
    });

    it('compares key names case-insensitively and string values case-sensitively', () => {
      expect(list({ 'S3:Prefix': 'raw/x' }, { StringEquals: { 's3:prefix': 'raw/x' } })).toBe('allow');
      expect(list({ 's3:prefix': 'RAW/x' }, { StringEquals: { 's3:prefix': 'raw/x' } })).toBe('implicit-deny');
    });

    it('reads Bool and numeric values as the template writes them (strings or numbers)', () => {
      expect(list({ 'aws:SecureTransport': 'true' }, { Bool: { 'aws:SecureTransport': true } })).toBe('allow');
      expect(list({ 's3:TlsVersion': 1.2 }, { NumericLessThan: { 's3:TlsVersion': 1.2 } })).toBe('implicit-deny');
      expect(list({ 's3:TlsVersion': '1.1' }, { NumericLessThan: { 's3:TlsVersion': '1.2' } })).toBe('allow');
    });
  });

  describe('what it does not judge', () => {
    it('throws on forms it does not implement instead of guessing', () => {
      const cases: PolicyStatement[] = [
        { Effect: 'Allow', Action: 'sqs:*', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'a' } } },
        { Effect: 'Allow', Action: 'sqs:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
        { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:*:*:${aws:username}' },
      ];
      for (const statement of cases) expect(() => evaluate(request(), { identity: [policy('identity', statement)] })).toThrow(UnsupportedPolicyError);
      const notPrincipal = policy('queuePolicy', { Effect: 'Deny', NotPrincipal: { AWS: ROLE }, Action: 'sqs:*', Resource: QUEUE });
      expect(() => evaluate(request(), { identity: [], resource: notPrincipal })).toThrow(/NotPrincipal/);
    });
  });
});
