/**
 * The README's "subscribe your own target" example is this file's subject: it
 * must synthesize, pass cdk-nag, match the events the stack publishes, and be
 * the very code the README shows.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FailedJobsStack } from '../../examples/subscribe-to-job-events';
import { JOB_EVENTS } from '../../lambda/core/contract';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the README example of a team subscribing to the job events', () => {
  const app = new App();
  const stack = new FailedJobsStack(app, 'FailedJobs', { jobEventsBusName: 'WebhookIngestionStackJobEventsBus', projectId: 'p_7' });
  const template = Template.fromStack(stack);

  it("puts a rule on the stack's bus, found by name, for its project's failed jobs", () => {
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rule.Properties.EventBusName).toBe('WebhookIngestionStackJobEventsBus');
    expect(rule.Properties.EventPattern).toEqual({
      source: [JOB_EVENTS.source],
      'detail-type': [JOB_EVENTS.detailTypes.failed],
      detail: { product: { projectId: ['p_7'] } },
    });
    expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FailedJobs/), 'Arn'] });
  });

  it('passes cdk-nag AwsSolutions', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('is the code the README shows', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(path.join(ROOT, 'examples', 'subscribe-to-job-events.ts'), 'utf8');
    const body = example.slice(example.indexOf('import '));
    expect(readme).toContain(body.trim());
  });
});
