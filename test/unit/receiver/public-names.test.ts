/**
 * Two names leave this codebase and live on in other people's systems, so a
 * change to either is a breaking change, never a refactor:
 * - the webhook path is the URL the provider was configured with (the README's
 *   `POST /webhooks`); a new path answers the provider's deliveries 404, which it
 *   treats as final;
 * - the stack name is what `cdk deploy` deployed, what the runbook's
 *   `describe-stacks --stack-name` commands and the ops tools' cdk-outputs.json
 *   lookups name; a new name deploys a second stack beside the first, with its
 *   own table and archive.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_NAME, WEBHOOK_PATH } from '../../../lambda/core/contract';

const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

describe('names other systems depend on', () => {
  it('keeps the webhook path the provider is configured with', () => {
    expect(WEBHOOK_PATH).toBe('/webhooks');
    expect(readme).toContain(`POST ${WEBHOOK_PATH}\``);
  });

  it('keeps the stack name the runbook and ops tools look up', () => {
    expect(STACK_NAME).toBe('WebhookIngestionStack');
    expect(readme).toContain(`--stack-name ${STACK_NAME} `);
  });
});
