/**
 * Code paths whose calls no local emulator can serve, run for real against
 * recording clients: the real handler and tool code builds, serializes and
 * signs each request with the real SDK, and the fake transport
 * (local/fake-aws.ts) answers as the service would. What they send is recorded
 * like any other call and evaluated by the IAM check.
 *
 * - the receiver reads its signing secret (Secrets Manager has no emulator
 *   here; the local stack hands the receiver a static secret);
 * - `npm run redrive` starts and follows an SQS message move task (fauxqs
 *   answers StartMessageMoveTask with InvalidAction, so e2e only sees the
 *   attempt and the receive/send/delete fallback);
 * - `npm run replay -- --verify --secret-arn` reads the signing secret as the
 *   operator;
 * - the console's deployed-stack reads (CloudWatch has no emulator here; the
 *   local console reads the local stack's log file and samples its queue
 *   instead): the receiver's log lines with FilterLogEvents, and the charts'
 *   metrics with GetMetricData, as the operator.
 */
import { SERVICE_NAMES } from '../../lambda/core/contract';
import { receiverDependenciesFromEnv } from '../../lambda/handlers/receiver';
import { OUTPUT_KEYS } from '../../lambda/core/contract';
import { cloudWatchCharts } from '../../ops/lib/console-metrics';
import { cloudWatchReceiverLogs } from '../../ops/lib/receiver-logs';
import { redrive } from '../../ops/lib/redrive-run';
import { loadSignatureKeys } from '../../ops/lib/replay-secrets';
import { CallRecorder } from '../aws-call-recorder';
import { FakeAws } from '../fake-aws';
import { readStackShape, type CfnTemplate } from '../stack-shape';
import { AccessLog, CONSOLE_VIEWER, OPERATOR } from './access-log';
import type { TemplateResolver } from './template-policies';

const OFFLINE_SECRET = 'offline-path-signing-secret';

export interface OfflinePath {
  readonly name: string;
  readonly principal: string;
  run(clients: ReturnType<FakeAws['clients']>, resolver: TemplateResolver): Promise<void>;
}

/** The environment the template gives the function of this service name, resolved to local values. */
function functionEnvironment(template: CfnTemplate, resolver: TemplateResolver, serviceName: string): Record<string, string> {
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    if (variables.POWERTOOLS_SERVICE_NAME !== serviceName) continue;
    return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolver.text(value)]));
  }
  throw new Error(`no function ${serviceName} in the template`);
}

function queueUrls(resolver: TemplateResolver): { queueUrl: string; deadLetterQueueUrl: string } {
  const shape = readStackShape(resolver.template);
  if (shape.queue.logicalId === undefined || shape.deadLetterQueue.logicalId === undefined) throw new Error('the template has no work queue and DLQ');
  return { queueUrl: resolver.ref(shape.queue.logicalId), deadLetterQueueUrl: resolver.ref(shape.deadLetterQueue.logicalId) };
}

/** What the console reads from CloudWatch for a deployed stack, as one principal. */
function consoleReads(principal: string): OfflinePath {
  return {
    name: `the console reads the receiver's log lines and the charts' metrics (${principal})`,
    principal,
    async run(clients, resolver) {
      const logGroup = resolver.template.Outputs?.[OUTPUT_KEYS.receiverLogGroupName]?.Value;
      if (logGroup === undefined) throw new Error(`the template has no ${OUTPUT_KEYS.receiverLogGroupName} output`);
      const to = new Date();
      const from = new Date(to.getTime() - 3_600_000);
      await cloudWatchReceiverLogs(clients.logs, resolver.text(logGroup)).read({ from, to });
      const charts = cloudWatchCharts(clients.cloudwatch, queueUrls(resolver).queueUrl);
      await charts.deliveries(from, to);
      await charts.queueAge(from, to);
    },
  };
}

export const OFFLINE_PATHS: readonly OfflinePath[] = [
  {
    name: 'receiver reads its signing secret',
    principal: SERVICE_NAMES.receiver,
    async run(clients, resolver) {
      const env = functionEnvironment(resolver.template, resolver, SERVICE_NAMES.receiver);
      const deps = receiverDependenciesFromEnv(env, clients);
      await deps.secrets.getSigningSecrets();
    },
  },
  {
    name: 'redrive through an SQS message move task',
    principal: OPERATOR,
    async run(clients, resolver) {
      const result = await redrive({ sqs: clients.sqs, ...queueUrls(resolver), sleep: async () => undefined });
      if (result.method !== 'move-task') throw new Error(`redrive took the ${result.method} path, not the move task`);
    },
  },
  {
    name: 'replay --verify --secret-arn reads the signing secret',
    principal: OPERATOR,
    async run(clients, resolver) {
      const arn = functionEnvironment(resolver.template, resolver, SERVICE_NAMES.receiver).SIGNING_SECRET_ARN;
      if (arn === undefined) throw new Error('the receiver has no SIGNING_SECRET_ARN');
      await loadSignatureKeys({ kind: 'arn', arn, region: resolver.options.region }, clients.secretsManager);
    },
  },
  consoleReads(OPERATOR),
  consoleReads(CONSOLE_VIEWER),
];

/** Runs every offline path; each one's calls are recorded under its principal. */
export async function recordOfflinePaths(resolver: TemplateResolver, paths: readonly OfflinePath[] = OFFLINE_PATHS): Promise<AccessLog[]> {
  const logs: AccessLog[] = [];
  for (const path of paths) {
    const fake = new FakeAws({ secret: OFFLINE_SECRET });
    // The queue URLs are the local stack's; the fake answers whatever host the request names.
    const clients = fake.clients({ sqs: { useQueueUrlAsEndpoint: false } });
    const recorder = new CallRecorder({ keepRecords: false });
    for (const client of Object.values(clients)) recorder.attach(client, { principal: path.principal });
    const log = new AccessLog(`offline: ${path.name}`, resolver.options.account).listen(recorder);
    try {
      await path.run(clients, resolver);
    } finally {
      Object.values(clients).forEach((client) => client.destroy());
    }
    logs.push(log);
  }
  return logs;
}
