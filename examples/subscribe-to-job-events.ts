/**
 * A team's own CDK app, subscribing to the job events: the failed jobs of its
 * project land in its own queue. The bus is found by the name the ingestion
 * stack outputs (`JobEventsBusName`); in the same CDK app, pass
 * `ingestionStack.jobEvents.eventBus` instead. Shown in the README and
 * synthesized by test/infra/subscribe-example.test.ts.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface FailedJobsStackProps extends StackProps {
  /** The `JobEventsBusName` output of the ingestion stack. */
  readonly jobEventsBusName: string;
  /** The product attribute the team set on its job items when it created them. */
  readonly projectId: string;
}

export class FailedJobsStack extends Stack {
  public readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: FailedJobsStackProps) {
    super(scope, id, props);
    const bus = events.EventBus.fromEventBusName(this, 'JobEvents', props.jobEventsBusName);

    const deadLetters = new sqs.Queue(this, 'FailedJobsDlq', { enforceSSL: true, retentionPeriod: Duration.days(14) });
    this.queue = new sqs.Queue(this, 'FailedJobs', {
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });

    new events.Rule(this, 'FailedJobsOfMyProject', {
      eventBus: bus,
      eventPattern: {
        source: ['webhook-ingestion.jobs'],
        detailType: ['Job Failed'],
        detail: { product: { projectId: [props.projectId] } },
      },
      // Dedupe on detail.eventId: delivery is at least once.
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: deadLetters })],
    });
  }
}
