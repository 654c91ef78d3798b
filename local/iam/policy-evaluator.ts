/**
 * IAM policy evaluation for one account, kept to the statement forms a
 * synthesized CDK template uses, after AWS's documented evaluation logic (IAM
 * User Guide, "Policy evaluation logic" and "IAM JSON policy elements"):
 *
 * - every request starts denied (implicit deny);
 * - an explicit Deny in any applicable policy, identity or resource, wins;
 * - otherwise an Allow in the principal's identity policies, or in the
 *   resource's own policy naming the principal, allows it (within one account
 *   the two are a union);
 * - a KMS key is the exception: its key policy must allow, directly or by
 *   naming the account, which delegates to the identity policies;
 * - Action/NotAction match case-insensitively with `*` and `?`; Resource and
 *   NotResource match ARN by ARN component (ArnLike); Principal `*`,
 *   `{"AWS": "*"}`, a role ARN, or the account (its id or `:root` ARN);
 * - Condition: every operator and every key in it must match (AND), any of a
 *   key's values may (OR); a key absent from the request fails positive
 *   operators and satisfies negated ones (StringNotEquals, ...), `...IfExists`
 *   is satisfied by an absent key.
 *
 * Anything else (NotPrincipal, policy variables, set operators, other
 * condition operators) throws UnsupportedPolicyError: a check that cannot
 * judge a statement must fail, never pass it by accident.
 */
import type { ContextValue } from './sdk-requests';

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: '*' | Readonly<Record<string, string | readonly string[]>>;
  readonly NotPrincipal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

/** A policy and where it comes from (a logical id), so decisions can name the statement that made them. */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface EvaluationRequest {
  /** The role ARN of the caller. */
  readonly principalArn: string;
  readonly principalAccount: string;
  readonly action: string;
  readonly resource: string;
  /** Condition keys of the request (names case-insensitive), global ones included. */
  readonly context: Readonly<Record<string, ContextValue>>;
}

export interface PolicySet {
  readonly identity: readonly NamedPolicy[];
  /** The resource's own policy, if it has one. */
  readonly resource?: NamedPolicy;
  /** KMS keys: the key policy must allow (directly or through the account). */
  readonly resourceIsKmsKey?: boolean;
}

export interface MatchedStatement {
  readonly policy: string;
  readonly index: number;
  readonly statement: PolicyStatement;
  readonly kind: 'identity' | 'resource';
}

export interface Decision {
  readonly decision: 'allow' | 'explicit-deny' | 'implicit-deny';
  readonly allowedBy: readonly MatchedStatement[];
  readonly deniedBy: readonly MatchedStatement[];
}

export class UnsupportedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPolicyError';
  }
}

const list = <T>(value: T | readonly T[] | undefined): readonly T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value as T]);

export function statementsOf(document: PolicyDocument): readonly PolicyStatement[] {
  return list(document.Statement);
}

function globToRegExp(pattern: string, flags = ''): RegExp {
  if (pattern.includes('${')) throw new UnsupportedPolicyError(`policy variables are not supported: ${pattern}`);
  const source = pattern.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, flags);
}

/** StringLike: `*` any run of characters, `?` one; case-sensitive. */
export function stringLike(value: string, pattern: string): boolean {
  return globToRegExp(pattern).test(value);
}

export function actionMatches(action: string, pattern: string): boolean {
  return globToRegExp(pattern, 'i').test(action);
}

/** The six ARN components: arn, partition, service, region, account, resource (which may hold more colons). */
function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** ArnLike: each component matched on its own, so a wildcard never spans a colon outside the resource part. */
export function arnLike(arn: string, pattern: string): boolean {
  if (pattern === '*') return true;
  const value = arnParts(arn);
  const wanted = arnParts(pattern);
  if (value === undefined || wanted === undefined) return false;
  return wanted.every((part, index) => stringLike(value[index], part));
}

function matchesAny(values: readonly string[], test: (pattern: string) => boolean): boolean {
  return values.some(test);
}

function principalMatches(statement: PolicyStatement, request: EvaluationRequest): 'yes' | 'account' | 'no' {
  if (statement.NotPrincipal !== undefined) throw new UnsupportedPolicyError('NotPrincipal is not supported');
  const principal = statement.Principal;
  if (principal === undefined) throw new UnsupportedPolicyError('a resource policy statement without Principal');
  if (principal === '*') return 'yes';
  let result: 'yes' | 'account' | 'no' = 'no';
  for (const [kind, values] of Object.entries(principal)) {
    for (const value of list(values)) {
      if (kind === 'AWS') {
        if (value === '*' || value === request.principalArn) return 'yes';
        if (value === request.principalAccount || value === `arn:${arnParts(request.principalArn)?.[1] ?? 'aws'}:iam::${request.principalAccount}:root`) {
          result = 'account';
        }
      } else if (kind !== 'Service' && kind !== 'Federated' && kind !== 'CanonicalUser') {
        throw new UnsupportedPolicyError(`principal type ${kind} is not supported`);
      }
    }
  }
  return result;
}

type Operator = (value: ContextValue, wanted: string) => boolean;

const asText = (value: ContextValue): string[] => (Array.isArray(value) ? [...value] : [String(value)]);
const asBool = (value: string): string => value.toLowerCase();
const numeric = (value: ContextValue): number => Number(Array.isArray(value) ? Number.NaN : value);
const wantNumber = (wanted: string): number => Number(wanted);

/** Each operator on one context value and one policy value; negated ones are the complement of their positive. */
const POSITIVE: Record<string, Operator> = {
  StringEquals: (value, wanted) => asText(value).some((text) => text === wanted),
  StringEqualsIgnoreCase: (value, wanted) => asText(value).some((text) => text.toLowerCase() === wanted.toLowerCase()),
  StringLike: (value, wanted) => asText(value).some((text) => stringLike(text, wanted)),
  ArnEquals: (value, wanted) => asText(value).some((text) => arnLike(text, wanted)),
  ArnLike: (value, wanted) => asText(value).some((text) => arnLike(text, wanted)),
  Bool: (value, wanted) => asText(value).some((text) => asBool(text) === asBool(wanted)),
  NumericEquals: (value, wanted) => numeric(value) === wantNumber(wanted),
  NumericLessThan: (value, wanted) => numeric(value) < wantNumber(wanted),
  NumericLessThanEquals: (value, wanted) => numeric(value) <= wantNumber(wanted),
  NumericGreaterThan: (value, wanted) => numeric(value) > wantNumber(wanted),
  NumericGreaterThanEquals: (value, wanted) => numeric(value) >= wantNumber(wanted),
};
const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
  NumericNotEquals: 'NumericEquals',
};

function contextValue(context: Readonly<Record<string, ContextValue>>, key: string): ContextValue | undefined {
  const wanted = key.toLowerCase();
  for (const [name, value] of Object.entries(context)) if (name.toLowerCase() === wanted) return value;
  return undefined;
}

function conditionMatches(condition: PolicyStatement['Condition'], context: Readonly<Record<string, ContextValue>>): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition).every(([rawOperator, keys]) => {
    if (rawOperator.includes(':')) throw new UnsupportedPolicyError(`condition set operators are not supported: ${rawOperator}`);
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
    const negatedOf = NEGATED[operator];
    const test = POSITIVE[negatedOf ?? operator];
    if (test === undefined) throw new UnsupportedPolicyError(`condition operator ${rawOperator} is not supported`);
    return Object.entries(keys).every(([key, wanted]) => {
      const value = contextValue(context, key);
      if (value === undefined) return ifExists || negatedOf !== undefined;
      const wantedValues = list(wanted as string | readonly string[]).map((item) => String(item));
      const anyMatch = wantedValues.some((item) => test(value, item));
      // A negated operator matches when no value does (StringNotEquals: "none of these").
      return negatedOf !== undefined ? !anyMatch : anyMatch;
    });
  });
}

function actionAndResourceMatch(statement: PolicyStatement, request: EvaluationRequest): boolean {
  if (statement.Action !== undefined && !matchesAny(list(statement.Action), (pattern) => actionMatches(request.action, pattern))) return false;
  if (statement.NotAction !== undefined && matchesAny(list(statement.NotAction), (pattern) => actionMatches(request.action, pattern))) return false;
  if (statement.Action === undefined && statement.NotAction === undefined) throw new UnsupportedPolicyError('a statement without Action or NotAction');
  if (statement.Resource !== undefined && !matchesAny(list(statement.Resource), (pattern) => arnLike(request.resource, pattern))) return false;
  if (statement.NotResource !== undefined && matchesAny(list(statement.NotResource), (pattern) => arnLike(request.resource, pattern))) return false;
  return true;
}

interface Applicable {
  readonly match: MatchedStatement;
  /** Resource statements: the principal is named directly, or only through its account. */
  readonly principal: 'yes' | 'account';
}

function applicable(policy: NamedPolicy, kind: 'identity' | 'resource', request: EvaluationRequest): Applicable[] {
  const found: Applicable[] = [];
  statementsOf(policy.document).forEach((statement, index) => {
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw new UnsupportedPolicyError(`Effect ${String(statement.Effect)}`);
    let principal: 'yes' | 'account' = 'yes';
    if (kind === 'resource') {
      const matched = principalMatches(statement, request);
      if (matched === 'no') return;
      principal = matched;
    } else if (statement.Principal !== undefined || statement.NotPrincipal !== undefined) {
      throw new UnsupportedPolicyError(`identity policy ${policy.name} has a Principal`);
    }
    if (!actionAndResourceMatch(statement, request)) return;
    if (!conditionMatches(statement.Condition, request.context)) return;
    found.push({ match: { policy: policy.name, index, statement, kind }, principal });
  });
  return found;
}

export function evaluate(request: EvaluationRequest, policies: PolicySet): Decision {
  const identity = policies.identity.flatMap((policy) => applicable(policy, 'identity', request));
  const resource = policies.resource ? applicable(policies.resource, 'resource', request) : [];
  const all = [...identity, ...resource];
  const deniedBy = all.filter(({ match }) => match.statement.Effect === 'Deny').map(({ match }) => match);
  if (deniedBy.length > 0) return { decision: 'explicit-deny', allowedBy: [], deniedBy };

  const identityAllows = identity.filter(({ match }) => match.statement.Effect === 'Allow').map(({ match }) => match);
  const resourceAllows = resource.filter(({ match }) => match.statement.Effect === 'Allow');
  // A resource policy naming the principal itself grants on its own; naming only the account grants nothing
  // by itself (the account's identity policies must allow), but is what a KMS key policy needs to delegate.
  const direct = resourceAllows.filter((allow) => allow.principal === 'yes').map(({ match }) => match);
  const delegated = resourceAllows.filter((allow) => allow.principal === 'account').map(({ match }) => match);

  let allowedBy: MatchedStatement[];
  if (policies.resourceIsKmsKey) {
    allowedBy = direct.length > 0 ? direct : delegated.length > 0 && identityAllows.length > 0 ? [...delegated, ...identityAllows] : [];
  } else {
    allowedBy = [...identityAllows, ...direct];
  }
  return allowedBy.length > 0 ? { decision: 'allow', allowedBy, deniedBy: [] } : { decision: 'implicit-deny', allowedBy: [], deniedBy: [] };
}
