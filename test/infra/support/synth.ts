/**
 * Shared helpers for the infra tests: synthesize the stack once per file and
 * read what a reviewer cares about (roles' actions, resources by type).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { STACK_NAME } from '../../../lambda/core/contract';
import { WebhookIngestionStack, type WebhookIngestionStackProps } from '../../../lib/webhook-ingestion-stack';

/** The repository root. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface Synthesized {
  readonly app: App;
  readonly stack: WebhookIngestionStack;
  readonly template: Template;
  /** The template as a JSON string, for "this never appears anywhere" checks. */
  readonly json: string;
}

export interface SynthOptions {
  /**
   * Run esbuild for the Lambda assets. Off for variants that only look at
   * resource properties: bundling is most of a synth's time.
   */
  readonly bundle?: boolean;
}

/** The feature flags and other context of `cdk.json`, so the tests synthesize what `cdk synth` does. */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/** An app with the project's context; `bundle: false` skips esbuild for tests that only read resource properties. */
export function projectApp(options: SynthOptions = {}): App {
  return new App({ context: { ...projectContext(), ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}) } });
}

export function synthesize(props: WebhookIngestionStackProps = {}, options: SynthOptions = {}): Synthesized {
  const app = projectApp(options);
  const stack = new WebhookIngestionStack(app, STACK_NAME, props);
  const template = Template.fromStack(stack);
  return { app, stack, template, json: JSON.stringify(template.toJSON()) };
}

export function logicalId(construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild as CfnElement;
  return Stack.of(child).getLogicalId(child);
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every statement of every IAM policy attached to the role. */
export function roleStatements(template: Template, role: iam.IRole): Statement[] {
  const roleId = logicalId(role);
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties.Roles as unknown[]).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

export function actionsOf(statements: readonly Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
}

/** The resources of the statements that grant `action`, as JSON strings. */
export function resourcesFor(statements: readonly Statement[], action: string): string[] {
  return statements
    .filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
    .map((r) => JSON.stringify(r));
}

export function getAtt(id: string, attribute = 'Arn'): string {
  return JSON.stringify({ 'Fn::GetAtt': [id, attribute] });
}

/** The ARN pattern of the objects under `raw/` in a bucket, as CDK renders it. */
export function objectsUnder(bucketId: string, prefix: string): string {
  return JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}*`]] });
}

/** A resource (or its properties) as the assertions library returns it: loosely typed JSON. */
export type CfnJson = ReturnType<Template['findResources']>[string];
