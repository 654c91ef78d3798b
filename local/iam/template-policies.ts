/**
 * The policies a synthesized template gives each principal, and each
 * resource's own policy, with CloudFormation's intrinsics resolved to the
 * local stack's names and ARNs: a resource the local stack created resolves to
 * what it created (`LocalResources.byLogicalId`), any other to a stable local
 * ARN built from its type and logical id (log groups, the secret, keys, roles).
 *
 * Principals: a function by its POWERTOOLS_SERVICE_NAME (the name its clients
 * are recorded under), so a new function's role is found without a list here;
 * `operator`, the imported operator role the stack granted replay and redrive.
 *
 * Pure: reads the template JSON only.
 */
import type { CfnResource, CfnTemplate } from '../stack-shape';
import { partitionOf, queueArnFromUrl } from './sdk-requests';
import type { NamedPolicy, PolicyDocument } from './policy-evaluator';

export interface LocalResourceValue {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ResolverOptions {
  readonly region: string;
  readonly account: string;
  /** What the local stack created, by logical id. */
  readonly local?: Readonly<Record<string, LocalResourceValue>>;
}

export class UnresolvableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnresolvableError';
  }
}

/** Ref and GetAtt values of a resource the local stack does not create, after each type's CloudFormation return values. */
function standInValue(type: string, logicalId: string, attribute: string | undefined, options: ResolverOptions): string | undefined {
  const { region, account } = options;
  const p = partitionOf(region);
  const name = logicalId;
  const values: Record<string, Record<string, string>> = {
    'AWS::IAM::Role': { Ref: name, Arn: `arn:${p}:iam::${account}:role/${name}`, RoleId: `AROA${name.toUpperCase()}` },
    'AWS::Logs::LogGroup': { Ref: name, Arn: `arn:${p}:logs:${region}:${account}:log-group:${name}:*` },
    'AWS::SecretsManager::Secret': { Ref: `arn:${p}:secretsmanager:${region}:${account}:secret:${name}-AbCdEf` },
    'AWS::KMS::Key': { Ref: name.toLowerCase(), Arn: `arn:${p}:kms:${region}:${account}:key/${name.toLowerCase()}` },
    'AWS::SNS::Topic': { Ref: `arn:${p}:sns:${region}:${account}:${name}`, TopicArn: `arn:${p}:sns:${region}:${account}:${name}`, TopicName: name },
    'AWS::SQS::Queue': {
      Ref: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
      Arn: `arn:${p}:sqs:${region}:${account}:${name}`,
      QueueName: name,
      QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
    },
    'AWS::DynamoDB::Table': {
      Ref: name,
      Arn: `arn:${p}:dynamodb:${region}:${account}:table/${name}`,
      StreamArn: `arn:${p}:dynamodb:${region}:${account}:table/${name}/stream/local`,
    },
    'AWS::S3::Bucket': { Ref: name.toLowerCase(), Arn: `arn:${p}:s3:::${name.toLowerCase()}` },
    'AWS::Lambda::Function': { Ref: name, Arn: `arn:${p}:lambda:${region}:${account}:function:${name}` },
    'AWS::Events::EventBus': { Ref: name, Name: name, Arn: `arn:${p}:events:${region}:${account}:event-bus/${name}` },
    'AWS::Events::Rule': { Ref: name, Arn: `arn:${p}:events:${region}:${account}:rule/${name}` },
    'AWS::KinesisFirehose::DeliveryStream': { Ref: name, Arn: `arn:${p}:firehose:${region}:${account}:deliverystream/${name}` },
    'AWS::ApiGatewayV2::Api': { Ref: name.toLowerCase(), ApiEndpoint: `https://${name.toLowerCase()}.execute-api.${region}.amazonaws.com` },
  };
  return values[type]?.[attribute ?? 'Ref'];
}

export class TemplateResolver {
  constructor(
    readonly template: CfnTemplate,
    readonly options: ResolverOptions,
  ) {}

  private resource(logicalId: string): CfnResource {
    const resource = this.template.Resources?.[logicalId];
    if (resource === undefined) throw new UnresolvableError(`no resource ${logicalId} in the template`);
    return resource;
  }

  private pseudo(name: string): string | undefined {
    const { region, account } = this.options;
    const values: Record<string, string> = {
      'AWS::Partition': partitionOf(region),
      'AWS::Region': region,
      'AWS::AccountId': account,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'WebhookIngestionStack',
    };
    return values[name];
  }

  ref(logicalId: string): string {
    const pseudo = this.pseudo(logicalId);
    if (pseudo !== undefined) return pseudo;
    const local = this.options.local?.[logicalId];
    if (local !== undefined) return local.ref;
    const value = standInValue(this.resource(logicalId).Type, logicalId, undefined, this.options);
    if (value === undefined) throw new UnresolvableError(`Ref ${logicalId} (${this.resource(logicalId).Type}) has no local value`);
    return value;
  }

  getAtt(logicalId: string, attribute: string): string {
    const local = this.options.local?.[logicalId]?.attributes[attribute];
    if (local !== undefined) return local;
    const value = standInValue(this.resource(logicalId).Type, logicalId, attribute, this.options);
    if (value === undefined) throw new UnresolvableError(`GetAtt ${logicalId}.${attribute} (${this.resource(logicalId).Type}) has no local value`);
    return value;
  }

  /** A value with every intrinsic replaced; strings, numbers and booleans pass through, arrays and objects recursively. */
  resolve(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return this.intrinsic(keys[0], record[keys[0]]);
    return Object.fromEntries(keys.map((key) => [key, this.resolve(record[key])]));
  }

  text(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string' || typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new UnresolvableError(`expected a string, got ${JSON.stringify(resolved)}`);
  }

  private intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(String(argument));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument) ? argument.map(String) : String(argument).split(/\.(.+)/);
        return this.getAtt(logicalId, attribute);
      }
      case 'Fn::Join': {
        const [separator, items] = argument as [string, unknown];
        const parts = this.resolve(items);
        if (!Array.isArray(parts)) throw new UnresolvableError('Fn::Join of a non-list');
        return parts.map((part) => this.text(part)).join(separator);
      }
      case 'Fn::Sub': {
        const [body, variables] = Array.isArray(argument) ? (argument as [string, Record<string, unknown>]) : [String(argument), {}];
        return body.replace(/\$\{([^}!]+)\}/g, (_match, reference: string) => {
          if (reference in variables) return this.text(variables[reference]);
          const dot = reference.indexOf('.');
          return dot > 0 && !reference.startsWith('AWS::') ? this.getAtt(reference.slice(0, dot), reference.slice(dot + 1)) : this.ref(reference);
        });
      }
      case 'Fn::Select': {
        const [index, items] = argument as [unknown, unknown];
        const parts = this.resolve(items);
        if (!Array.isArray(parts)) throw new UnresolvableError('Fn::Select of a non-list');
        return parts[Number(this.text(index))];
      }
      case 'Fn::Split': {
        const [separator, source] = argument as [string, unknown];
        return this.text(source).split(separator);
      }
      default:
        throw new UnresolvableError(`${name} is not resolved locally`);
    }
  }
}

export interface PrincipalPolicies {
  readonly principal: string;
  readonly roleArn: string;
  readonly identity: readonly NamedPolicy[];
}

export interface ResourcePolicy {
  /** The ARN the policy guards; S3 bucket policies also guard every object (`<arn>/*`), table policies their indexes. */
  readonly arn: string;
  readonly covers: 'exact' | 'bucket' | 'table';
  readonly kmsKey: boolean;
  readonly policy: NamedPolicy;
}

function entries(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

function refOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && typeof (value as { Ref?: unknown }).Ref === 'string' ? (value as { Ref: string }).Ref : undefined;
}

function getAttOf(value: unknown): string | undefined {
  const getAtt = typeof value === 'object' && value !== null ? (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'] : undefined;
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

/** The principal of the archive stream's own writes to S3 (local/stand-ins/firehose.ts makes them locally). */
export const ARCHIVE_STREAM_PRINCIPAL = 'archive-stream';

/**
 * The roles imported by name the template was synthesized with: the operator's
 * (a name alone), or each imported role by the principal its calls are recorded as.
 */
export type ImportedRoles = string | Readonly<Record<string, string>>;

/** The role logical id (or, for an imported role, its name) of each principal the template knows. */
export function principalRoles(template: CfnTemplate, operatorRoleName?: ImportedRoles): Map<string, { roleLogicalId?: string; roleName: string }> {
  const roles = new Map<string, { roleLogicalId?: string; roleName: string }>();
  for (const [, fn] of entries(template, 'AWS::Lambda::Function')) {
    const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const service = variables.POWERTOOLS_SERVICE_NAME;
    const roleId = getAttOf(fn.Properties?.Role);
    if (typeof service !== 'string' || roleId === undefined) continue;
    const roleName = template.Resources?.[roleId]?.Properties?.RoleName;
    roles.set(service, { roleLogicalId: roleId, roleName: typeof roleName === 'string' ? roleName : roleId });
  }
  // A Firehose stream writes its objects with its destination role: its writes are checked like a function's calls.
  for (const [, stream] of entries(template, 'AWS::KinesisFirehose::DeliveryStream')) {
    const destination = stream.Properties?.ExtendedS3DestinationConfiguration as { RoleARN?: unknown } | undefined;
    const roleId = getAttOf(destination?.RoleARN);
    if (roleId === undefined) continue;
    const roleName = template.Resources?.[roleId]?.Properties?.RoleName;
    roles.set(ARCHIVE_STREAM_PRINCIPAL, { roleLogicalId: roleId, roleName: typeof roleName === 'string' ? roleName : roleId });
  }
  const imported = typeof operatorRoleName === 'string' ? { operator: operatorRoleName } : (operatorRoleName ?? {});
  for (const [principal, roleName] of Object.entries(imported)) roles.set(principal, { roleName });
  return roles;
}

/** Identity policies of one principal: inline policies of its role, and every AWS::IAM::Policy / ManagedPolicy attached to it. */
export function principalPolicies(resolver: TemplateResolver, principal: string, operatorRoleName?: ImportedRoles): PrincipalPolicies {
  const { template } = resolver;
  const role = principalRoles(template, operatorRoleName).get(principal);
  if (role === undefined) throw new UnresolvableError(`no role in the template for principal ${principal}`);
  const identity: NamedPolicy[] = [];
  const attached = (roles: unknown): boolean =>
    Array.isArray(roles) && roles.some((entry) => (role.roleLogicalId !== undefined ? refOf(entry) === role.roleLogicalId : entry === role.roleName));

  if (role.roleLogicalId !== undefined) {
    const properties = template.Resources?.[role.roleLogicalId]?.Properties ?? {};
    const managed = properties.ManagedPolicyArns as unknown[] | undefined;
    if (managed !== undefined && managed.length > 0) {
      throw new UnresolvableError(`role ${role.roleLogicalId} has managed policies, which cannot be read offline: ${JSON.stringify(managed)}`);
    }
    for (const inline of (properties.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }> | undefined) ?? []) {
      identity.push({ name: `${role.roleLogicalId}/${inline.PolicyName}`, document: resolver.resolve(inline.PolicyDocument) as PolicyDocument });
    }
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [logicalId, policy] of entries(template, type)) {
      if (!attached(policy.Properties?.Roles)) continue;
      identity.push({ name: logicalId, document: resolver.resolve(policy.Properties?.PolicyDocument) as PolicyDocument });
    }
  }
  const roleArn =
    role.roleLogicalId !== undefined
      ? resolver.getAtt(role.roleLogicalId, 'Arn')
      : `arn:${partitionOf(resolver.options.region)}:iam::${resolver.options.account}:role/${role.roleName}`;
  return { principal, roleArn, identity };
}

/** Every resource policy of the template, with the ARN it guards. */
export function resourcePolicies(resolver: TemplateResolver): ResourcePolicy[] {
  const { template } = resolver;
  const found: ResourcePolicy[] = [];
  const add = (arn: string, covers: ResourcePolicy['covers'], name: string, document: unknown, kmsKey = false): void => {
    found.push({ arn, covers, kmsKey, policy: { name, document: resolver.resolve(document) as PolicyDocument } });
  };
  for (const [id, policy] of entries(template, 'AWS::S3::BucketPolicy')) {
    const bucket = refOf(policy.Properties?.Bucket);
    if (bucket === undefined) throw new UnresolvableError(`${id}: bucket not named by Ref`);
    add(resolver.getAtt(bucket, 'Arn'), 'bucket', id, policy.Properties?.PolicyDocument);
  }
  for (const [id, policy] of entries(template, 'AWS::SQS::QueuePolicy')) {
    for (const queue of (policy.Properties?.Queues as unknown[] | undefined) ?? []) {
      const queueId = refOf(queue);
      if (queueId === undefined) throw new UnresolvableError(`${id}: queue not named by Ref`);
      add(resolver.getAtt(queueId, 'Arn'), 'exact', id, policy.Properties?.PolicyDocument);
    }
  }
  for (const [id, key] of entries(template, 'AWS::KMS::Key')) {
    add(resolver.getAtt(id, 'Arn'), 'exact', id, key.Properties?.KeyPolicy, true);
  }
  for (const [id, policy] of entries(template, 'AWS::SecretsManager::ResourcePolicy')) {
    add(resolver.text(policy.Properties?.SecretId), 'exact', id, policy.Properties?.ResourcePolicy);
  }
  for (const [id, table] of entries(template, 'AWS::DynamoDB::Table')) {
    const document = (table.Properties?.ResourcePolicy as { PolicyDocument?: unknown } | undefined)?.PolicyDocument;
    if (document !== undefined) add(resolver.getAtt(id, 'Arn'), 'table', `${id}/ResourcePolicy`, document);
  }
  for (const [id, policy] of entries(template, 'AWS::SNS::TopicPolicy')) {
    for (const topic of (policy.Properties?.Topics as unknown[] | undefined) ?? []) add(resolver.text(topic), 'exact', id, policy.Properties?.PolicyDocument);
  }
  const unread = Object.entries(template.Resources ?? {}).filter(([, resource]) =>
    ['AWS::Events::EventBusPolicy', 'AWS::KinesisFirehose::ResourcePolicy', 'AWS::IAM::ResourcePolicy'].includes(resource.Type),
  );
  if (unread.length > 0) throw new UnresolvableError(`resource policies this check cannot read yet: ${unread.map(([id, r]) => `${id} (${r.Type})`).join(', ')}`);
  return found;
}

/** The resource policy that guards an ARN, if any. */
export function resourcePolicyFor(policies: readonly ResourcePolicy[], arn: string): ResourcePolicy | undefined {
  return policies.find((policy) => {
    if (policy.covers === 'exact') return policy.arn === arn;
    if (policy.covers === 'bucket') return arn === policy.arn || arn.startsWith(`${policy.arn}/`);
    return arn === policy.arn || arn.startsWith(`${policy.arn}/index/`);
  });
}

export interface ResourceAlias {
  readonly from: string;
  readonly to: string;
}

/**
 * What a tool's outputs file named, in the template's terms: for each output
 * that names a queue, bucket or table, the ARN of what the file gave -> the ARN
 * of the template resource behind that output. A test that points a tool at a
 * scratch queue of its own then has the tool's calls judged as calls on the
 * stack's queue, which is what the same outputs key names when deployed.
 */
export function outputAliases(resolver: TemplateResolver, outputs: Readonly<Record<string, string>>): ResourceAlias[] {
  const { region, account } = resolver.options;
  const p = partitionOf(region);
  const aliases: ResourceAlias[] = [];
  for (const [key, output] of Object.entries(resolver.template.Outputs ?? {})) {
    const given = outputs[key];
    const logicalId = refOf(output.Value) ?? getAttOf(output.Value);
    const type = logicalId !== undefined ? resolver.template.Resources?.[logicalId]?.Type : undefined;
    if (given === undefined || logicalId === undefined) continue;
    let from: string | undefined;
    if (type === 'AWS::SQS::Queue') from = queueArnFromUrl(given, region);
    else if (type === 'AWS::S3::Bucket') from = `arn:${p}:s3:::${given}`;
    else if (type === 'AWS::DynamoDB::Table') from = `arn:${p}:dynamodb:${region}:${account}:table/${given}`;
    if (from === undefined) continue;
    const to = resolver.getAtt(logicalId, 'Arn');
    if (from !== to) aliases.push({ from, to });
  }
  return aliases;
}

/** The resource an alias maps an ARN to: the ARN itself, or one of its children (objects, indexes). */
export function aliasResource(resource: string, aliases: readonly ResourceAlias[]): string {
  for (const { from, to } of aliases) {
    if (resource === from) return to;
    if (resource.startsWith(`${from}/`)) return `${to}${resource.slice(from.length)}`;
  }
  return resource;
}
