/** A signing secret held in memory: for the local stack and tests, never for a deployed stack. */
import type { SecretSource, SigningSecrets } from '../core/ports';

export class StaticSecretSource implements SecretSource {
  private readonly secrets: SigningSecrets;

  /** A plain string becomes AWSCURRENT (created at the epoch); pass versions to exercise rotation. */
  constructor(secret: string | SigningSecrets | undefined) {
    this.secrets = typeof secret === 'string' ? { current: { value: secret, createdAt: new Date(0) } } : (secret ?? {});
  }

  async getSigningSecrets(): Promise<SigningSecrets> {
    return this.secrets;
  }

  /** Never changes, so there is never anything newer. */
  async refreshSigningSecrets(): Promise<SigningSecrets | undefined> {
    return undefined;
  }
}
