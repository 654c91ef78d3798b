/**
 * Judges recorded accesses against a synthesized template: each one evaluated
 * with its principal's identity policies and the resource's own policy; every
 * SDK command of the source must have been recorded; every grant that no
 * allowed access used is listed.
 *
 * The request context adds what a deployed call carries and a local one
 * cannot show: `aws:SecureTransport` is true, because the handlers and the ops
 * tools use the SDK's default https endpoints in AWS (the local stack reaches
 * the emulators over http only because it overrides the endpoint).
 */
import { AWS_SERVICE, DEPLOYER, UNATTRIBUTED, type RecordedAccess } from './access-log';
import { actionMatches, arnLike, evaluate, statementsOf, type Decision, type MatchedStatement, type PolicyStatement } from './policy-evaluator';
import {
  TemplateResolver,
  principalPolicies,
  principalRoles,
  resourcePolicies,
  resourcePolicyFor,
  type LocalResourceValue,
  type ImportedRoles,
  type PrincipalPolicies,
} from './template-policies';
import type { CfnTemplate } from '../stack-shape';

export interface EvaluationInput {
  readonly template: CfnTemplate;
  /** The imported operator role's name the template was synthesized with (or each imported role by principal). */
  readonly operatorRoleName?: ImportedRoles;
  readonly accesses: readonly RecordedAccess[];
  readonly region: string;
  readonly account: string;
  readonly local?: Readonly<Record<string, LocalResourceValue>>;
  /** SDK commands the source names (sdk-commands.ts); each must be among the recorded calls. */
  readonly sourceCommands?: readonly string[];
}

export interface JudgedAccess {
  readonly access: RecordedAccess;
  readonly decision: Decision['decision'];
  readonly deniedBy: readonly MatchedStatement[];
}

export interface PrincipalFigures {
  readonly principal: string;
  /** SDK calls (implied requests are not calls of their own). */
  calls: number;
  /** Distinct (action, resource, condition keys) requests evaluated, implied ones included. */
  requests: number;
  denied: number;
  readonly sdk: Set<string>;
}

export interface UnusedGrant {
  readonly principal: string;
  readonly policy: string;
  readonly action: string;
  readonly resource: string;
  readonly hasCondition: boolean;
}

export interface EvaluationResult {
  readonly figures: PrincipalFigures[];
  readonly denied: JudgedAccess[];
  /** Calls no principal was attached to, or that no IAM mapping knows: each a failure. */
  readonly problems: string[];
  readonly missingCommands: string[];
  readonly unusedGrants: UnusedGrant[];
  readonly totalCalls: number;
}

function globalContext(principal: PrincipalPolicies, input: EvaluationInput): Record<string, string> {
  return {
    'aws:SecureTransport': 'true',
    'aws:PrincipalArn': principal.roleArn,
    'aws:PrincipalAccount': input.account,
    'aws:RequestedRegion': input.region,
  };
}

const list = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : value);

export function evaluateAccesses(input: EvaluationInput): EvaluationResult {
  const resolver = new TemplateResolver(input.template, { region: input.region, account: input.account, local: input.local });
  const guards = resourcePolicies(resolver);
  const principals = new Map<string, PrincipalPolicies>();
  const policiesOf = (principal: string): PrincipalPolicies => {
    let found = principals.get(principal);
    if (found === undefined) {
      found = principalPolicies(resolver, principal, input.operatorRoleName);
      principals.set(principal, found);
    }
    return found;
  };

  const figures = new Map<string, PrincipalFigures>();
  const denied: JudgedAccess[] = [];
  const problems: string[] = [];
  /** Per principal: the identity statements that allowed something, and with which action and resource. */
  const used: Array<{ principal: string; match: MatchedStatement; action: string; resource: string }> = [];
  let totalCalls = 0;

  for (const access of input.accesses) {
    if (access.principal === DEPLOYER || access.principal === AWS_SERVICE) continue;
    if (access.principal === UNATTRIBUTED) {
      problems.push(`${access.sdk} (${access.origin}) was made by a client no principal was attached to: attach it where it is created (local/start.ts)`);
      continue;
    }
    if (access.action === undefined || access.resource === undefined) {
      problems.push(`${access.sdk} (${access.principal}, ${access.origin}) has no IAM mapping: add it to local/iam/sdk-requests.ts`);
      continue;
    }
    const principal = policiesOf(access.principal);
    let entry = figures.get(access.principal);
    if (entry === undefined) {
      entry = { principal: access.principal, calls: 0, requests: 0, denied: 0, sdk: new Set() };
      figures.set(access.principal, entry);
    }
    const guard = resourcePolicyFor(guards, access.resource);
    const decision = evaluate(
      {
        principalArn: principal.roleArn,
        principalAccount: input.account,
        action: access.action,
        resource: access.resource,
        context: { ...access.context, ...globalContext(principal, input) },
      },
      { identity: principal.identity, resource: guard?.policy, resourceIsKmsKey: guard?.kmsKey },
    );
    entry.requests += 1;
    entry.sdk.add(access.sdk);
    if (!access.implied) {
      entry.calls += access.count;
      totalCalls += access.count;
    }
    if (decision.decision !== 'allow') {
      entry.denied += 1;
      denied.push({ access, decision: decision.decision, deniedBy: decision.deniedBy });
      continue;
    }
    for (const match of decision.allowedBy) {
      if (match.kind === 'identity') used.push({ principal: access.principal, match, action: access.action, resource: access.resource });
    }
  }

  const recordedCommands = new Set(input.accesses.map((access) => `${access.sdk.split('.').slice(1).join('.')}Command`));
  const missingCommands = (input.sourceCommands ?? []).filter((command) => !recordedCommands.has(command));

  const unusedGrants: UnusedGrant[] = [];
  for (const principal of principalRoles(input.template, input.operatorRoleName).keys()) {
    const { identity } = policiesOf(principal);
    for (const policy of identity) {
      statementsOf(policy.document).forEach((statement: PolicyStatement, index) => {
        if (statement.Effect !== 'Allow') return;
        for (const action of list(statement.Action)) {
          for (const resource of list(statement.Resource)) {
            const wasUsed = used.some(
              (use) =>
                use.principal === principal &&
                use.match.policy === policy.name &&
                use.match.index === index &&
                actionMatches(use.action, action) &&
                arnLike(use.resource, resource),
            );
            if (!wasUsed) unusedGrants.push({ principal, policy: policy.name, action, resource, hasCondition: statement.Condition !== undefined });
          }
        }
      });
    }
  }

  return {
    figures: [...figures.values()].sort((a, b) => a.principal.localeCompare(b.principal)),
    denied,
    problems,
    missingCommands,
    unusedGrants,
    totalCalls,
  };
}
