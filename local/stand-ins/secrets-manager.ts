/**
 * A local AWS Secrets Manager for the signing secret: the smallest faithful
 * stand-in for what the stack calls, served on 127.0.0.1 so the real SDK client
 * and the real adapter (lambda/adapters/secrets-manager-source.ts, inside the
 * deployed receiver bundle) talk to it.
 *
 * Implements `GetSecretValue` over the AWS JSON 1.1 protocol
 * (`X-Amz-Target: secretsmanager.GetSecretValue`), as the Secrets Manager API
 * Reference describes it (API_GetSecretValue, and "Finding a secret from a
 * partial ARN" in the User Guide's troubleshooting page):
 * - `SecretId` is the secret's full ARN, its name, or its ARN without the
 *   random 6-character suffix;
 * - `VersionStage` picks the version carrying that staging label, `VersionId`
 *   the version with that id; with both, they must name the same version;
 *   with neither, the `AWSCURRENT` version;
 * - the answer carries `ARN`, `Name`, `VersionId`, `SecretString`,
 *   `VersionStages` and `CreatedDate` (epoch seconds);
 * - errors in the protocol's shape (HTTP 400, `__type` and
 *   `x-amzn-ErrorType`): `ResourceNotFoundException` for an unknown secret, a
 *   staging label no version carries ("Secrets Manager can't find the specified
 *   secret value for staging label: AWSPREVIOUS", what a never-rotated secret
 *   answers), or an unknown version; `InvalidParameterException` for a missing
 *   `SecretId` or a `VersionId` outside 32-64 characters; any other operation
 *   answers `UnknownOperationException`.
 *
 * Secrets are created and rotated through this module's own functions
 * (`createSecret`, `putSecretValue`, which moves `AWSCURRENT` to the new
 * version and `AWSPREVIOUS` to the one it replaces, as PutSecretValue does by
 * default), not over the wire: the stack never calls those APIs.
 *
 * Leaves out every other API, `SecretBinary`, `AWSPENDING` and custom staging
 * labels, deletion and recovery windows, resource policies, KMS, and
 * authentication (any SigV4 credentials are accepted, none are checked).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK_HOST } from '../net';
import { answerAwsJson, readRequestText } from './aws-json';

export const GET_SECRET_VALUE_TARGET = 'secretsmanager.GetSecretValue';
const STAGES = { current: 'AWSCURRENT', previous: 'AWSPREVIOUS' } as const;

interface SecretVersion {
  readonly versionId: string;
  readonly value: string;
  readonly createdAt: Date;
  stages: string[];
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly versions: SecretVersion[];
}

export interface LocalSecretsManagerOptions {
  readonly region: string;
  readonly account: string;
  /** 0 (default) picks a free loopback port. */
  readonly port?: number;
  readonly now?: () => Date;
}

export interface LocalSecretsManager {
  /** The endpoint a Secrets Manager client is given (AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  readonly endpoint: string;
  /** Creates a secret with one version, AWSCURRENT; returns its ARN (name plus a random suffix, as AWS does). */
  createSecret(name: string, value: string): string;
  /** Stores a new AWSCURRENT version; the version it replaces becomes AWSPREVIOUS. */
  putSecretValue(secretId: string, value: string): string;
  /** GetSecretValue calls answered, for tests. */
  calls(): number;
  stop(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}



/** AWS appends a hyphen and six random characters to the name in the ARN. */
function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(6)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export async function startLocalSecretsManager(options: LocalSecretsManagerOptions): Promise<LocalSecretsManager> {
  const now = options.now ?? (() => new Date());
  const secrets: StoredSecret[] = [];
  let calls = 0;

  const find = (secretId: string): StoredSecret => {
    const found = secrets.find((secret) => secret.arn === secretId || secret.name === secretId || secret.arn.slice(0, -7) === secretId);
    if (found === undefined) throw new ApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return found;
  };

  const addVersion = (secret: StoredSecret, value: string): string => {
    for (const version of secret.versions) {
      if (version.stages.includes(STAGES.previous)) version.stages = version.stages.filter((stage) => stage !== STAGES.previous);
      if (version.stages.includes(STAGES.current)) version.stages = [...version.stages.filter((stage) => stage !== STAGES.current), STAGES.previous];
    }
    const versionId = randomUUID();
    secret.versions.push({ versionId, value, createdAt: now(), stages: [STAGES.current] });
    return versionId;
  };

  const getSecretValue = (input: Record<string, unknown>): Record<string, unknown> => {
    const { SecretId: secretId, VersionId: versionId, VersionStage: versionStage } = input;
    if (typeof secretId !== 'string' || secretId === '') throw new ApiError('InvalidParameterException', 'You must provide a SecretId.');
    if (versionId !== undefined && (typeof versionId !== 'string' || versionId.length < 32 || versionId.length > 64)) {
      throw new ApiError('InvalidParameterException', 'VersionId must be 32 to 64 characters.');
    }
    const secret = find(secretId);
    const stage = typeof versionStage === 'string' ? versionStage : versionId === undefined ? STAGES.current : undefined;
    const byId = versionId === undefined ? undefined : secret.versions.find((version) => version.versionId === versionId);
    if (versionId !== undefined && byId === undefined) {
      throw new ApiError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    }
    const version = stage === undefined ? byId : secret.versions.find((candidate) => candidate.stages.includes(stage));
    if (version === undefined || (byId !== undefined && version !== byId)) {
      throw new ApiError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      SecretString: version.value,
      VersionStages: [...version.stages],
      CreatedDate: version.createdAt.getTime() / 1000,
    };
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const target = request.headers['x-amz-target'];
      try {
        const body = await readRequestText(request);
        if (request.method !== 'POST' || target !== GET_SECRET_VALUE_TARGET) {
          throw new ApiError('UnknownOperationException', `the local Secrets Manager implements only ${GET_SECRET_VALUE_TARGET}, not ${String(target)}`);
        }
        let input: unknown;
        try {
          input = JSON.parse(body === '' ? '{}' : body);
        } catch {
          throw new ApiError('SerializationException', 'the request body is not JSON');
        }
        calls += 1;
        answerAwsJson(response, 200, getSecretValue(typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {}));
      } catch (error) {
        if (error instanceof ApiError) answerAwsJson(response, 400, { __type: error.type, message: error.message }, error.type);
        else answerAwsJson(response, 500, { __type: 'InternalServiceError', message: 'local Secrets Manager failed' }, 'InternalServiceError');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    createSecret(name, value) {
      if (secrets.some((secret) => secret.name === name)) throw new Error(`secret ${name} already exists`);
      const secret: StoredSecret = { name, arn: `arn:aws:secretsmanager:${options.region}:${options.account}:secret:${name}-${randomSuffix()}`, versions: [] };
      secrets.push(secret);
      addVersion(secret, value);
      return secret.arn;
    },
    putSecretValue: (secretId, value) => addVersion(find(secretId), value),
    calls: () => calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
