/**
 * Where --verify gets the signing secret(s) from, in order: --secret (repeatable
 * for a rotation), --secret-arn (Secrets Manager, both version stages), the
 * WEBHOOK_SIGNING_SECRET variable, and for a local stack the dev secret it uses
 * by default. A deployed stack with none of these is a usage error: guessing
 * would refuse every delivery.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSource } from '../../lambda/adapters/secrets-manager-source';
import { isUsableSecret } from '../../lambda/core/signature';
import { UsageError } from './cli-usage';
import { SIGNING_SECRET_ENV, resolveSigningSecret } from './dev-secret';
import type { StackOutputs } from './outputs';
import type { SignatureKeys } from './replay-plan';

export type SecretChoice =
  | { readonly kind: 'static'; readonly secrets: readonly string[]; readonly origin: string }
  | { readonly kind: 'arn'; readonly arn: string; readonly region: string };

export function chooseSecretSource(
  options: { readonly secrets: readonly string[]; readonly secretArn?: string },
  outputs: Pick<StackOutputs, 'Endpoints'>,
  env: Readonly<Record<string, string | undefined>>,
): SecretChoice {
  if (options.secrets.length > 0) return { kind: 'static', secrets: options.secrets, origin: '--secret' };
  if (options.secretArn !== undefined) {
    // arn:aws:secretsmanager:<region>:<account>:secret:<name>
    return { kind: 'arn', arn: options.secretArn, region: options.secretArn.split(':')[3] };
  }
  const resolved = resolveSigningSecret(env);
  if (!resolved.isDevDefault) return { kind: 'static', secrets: [resolved.secret], origin: SIGNING_SECRET_ENV };
  if (outputs.Endpoints !== undefined) return { kind: 'static', secrets: [resolved.secret], origin: 'the local dev secret' };
  throw new UsageError(`--verify against a deployed stack needs --secret-arn, --secret or ${SIGNING_SECRET_ENV}`);
}

/** `client` replaces the one built for the secret's region (tests, the IAM check's recording client). */
export async function loadSignatureKeys(choice: SecretChoice, client?: SecretsManagerClient): Promise<SignatureKeys> {
  if (choice.kind === 'static') return { kind: 'static', secrets: choice.secrets };
  const ownClient = client === undefined;
  client ??= new SecretsManagerClient({ region: choice.region });
  try {
    const signing = await new SecretsManagerSource(client, choice.arn, { cacheSeconds: 0, maxStaleSeconds: 0 }).getSigningSecrets();
    if (!isUsableSecret(signing.current?.value)) {
      throw new Error(`${choice.arn} holds no usable signing secret (still the placeholder?): nothing can verify`);
    }
    return { kind: 'versions', signing };
  } finally {
    if (ownClient) client.destroy();
  }
}
