/**
 * The local stack builds its stream runner and bus stand-in from what the
 * synthesized template says about the job events; this reader is how.
 */
import { DEFAULTS, JOB_EVENTS, QUALITY_REVIEW } from '../../lambda/core/contract';
import { readJobEventsShape } from '../../local/events-shape';
import { type CfnTemplate, readStackShape } from '../../local/stack-shape';
import { logicalId, synthesize } from './support/synth';

describe('the job events shape the local stack reads from the template', () => {
  const { stack, template } = synthesize({}, { bundle: false });
  const json = template.toJSON() as CfnTemplate;
  const shape = readJobEventsShape(json)!;
  const jobEvents = stack.jobEvents!;

  it('gives the jobs table its stream with new and old images', () => {
    expect(readStackShape(json).jobsTable.streamViewType).toBe('NEW_AND_OLD_IMAGES');
  });

  it("takes the publisher's event source settings as synthesized", () => {
    expect(shape.eventSource).toEqual({
      batchSize: DEFAULTS.jobEventsBatchSize,
      maxBatchingWindowSeconds: DEFAULTS.jobEventsMaxBatchingWindowSeconds,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: DEFAULTS.jobEventsRetryAttempts,
      maximumRecordAgeSeconds: DEFAULTS.jobEventsMaxRecordAgeSeconds,
      reportBatchItemFailures: true,
      startingPosition: 'TRIM_HORIZON',
      filters: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { status: { S: ['started', 'completed', 'failed'] } } } }],
      onFailureQueueLogicalId: logicalId(jobEvents.failureQueue),
    });
    expect(shape.publisher.logicalId).toBe(logicalId(jobEvents.publisher));
    expect(shape.publisher.timeoutSeconds).toBe(DEFAULTS.jobEventsTimeoutSeconds);
  });

  it('finds the bus and its quality-review rule with its queue and dead-letter queue', () => {
    const review = logicalId(jobEvents.reviewQueue!);
    const reviewDlq = logicalId(jobEvents.reviewDeadLetterQueue!);
    expect(shape.bus.logicalId).toBe(logicalId(jobEvents.eventBus as never));
    expect(shape.rules).toEqual([
      {
        logicalId: logicalId(jobEvents.qualityReviewRule!),
        pattern: {
          source: [JOB_EVENTS.source],
          'detail-type': [JOB_EVENTS.detailTypes.completed],
          detail: { product: { [QUALITY_REVIEW.sceneTagsAttribute]: [...QUALITY_REVIEW.difficultSceneTags] } },
        },
        targets: [{ id: 'Target0', queueLogicalId: review, deadLetterQueueLogicalId: reviewDlq }],
        unsupported: [],
      },
    ]);
    expect(shape.queues.get(review)).toMatchObject({ deadLetterQueueLogicalId: reviewDlq, maxReceiveCount: DEFAULTS.maxReceiveCount });
    expect([...shape.queues.keys()].sort()).toEqual([logicalId(jobEvents.failureQueue), review, reviewDlq].sort());
    expect(shape.outputQueues).toEqual({ failureQueue: logicalId(jobEvents.failureQueue), reviewQueue: review });
  });

  it('is absent from a template without job events', () => {
    const bare = synthesize({ deployJobEvents: false }, { bundle: false });
    expect(readJobEventsShape(bare.template.toJSON() as CfnTemplate)).toBeUndefined();
  });
});
