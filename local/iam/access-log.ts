/**
 * The IAM-relevant part of the recorded calls: per principal, each distinct
 * (SDK command, action, resource, condition keys) with how often it was made.
 * Listens to a CallRecorder; written to a JSON file per process so the local
 * stack, each ops CLI and the offline paths can be merged and checked later.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CallRecorder, ObservedCall } from '../aws-call-recorder';
import { iamRequestsOf, type ContextValue } from './sdk-requests';

/** The principal of calls whose client nobody attributed: the check fails on them. */
export const UNATTRIBUTED = 'unattributed';
/** What CloudFormation does when it creates the stack: not checked against the stack's own grants. */
export const DEPLOYER = 'deployer';
/**
 * Calls an AWS service makes on its own behalf, with no role of the stack:
 * EventBridge delivering a rule's matches to its target queues (the local
 * stand-in's deliveries). Not checked against the stack's roles; the target
 * queues' resource policies are asserted by the infra tests.
 */
export const AWS_SERVICE = 'aws-service';
/** The ops tools' principal: a role given grantReplay and grantRedrive. */
export const OPERATOR = 'operator';
/** The read-only console's principal (`npm run console -- --read-only`): a role given grantConsole alone. */
export const CONSOLE_VIEWER = 'console-viewer';

export interface RecordedAccess {
  readonly principal: string;
  readonly via?: string;
  /** `SQS.SendMessageBatch`: the SDK call that needed this access. */
  readonly sdk: string;
  /** Undefined when no IAM mapping knows the command (the check reports it). */
  readonly action?: string;
  readonly resource?: string;
  readonly context: Readonly<Record<string, ContextValue>>;
  readonly implied?: boolean;
  /** Where it was recorded: `e2e`, `reliability`, `offline: <path>`. */
  readonly origin: string;
  count: number;
}

export interface AccessLogFile {
  readonly version: 1;
  readonly origin: string;
  readonly account: string;
  /** Local value of each template resource, as the process that recorded used them. */
  readonly resources?: Readonly<Record<string, { readonly ref: string; readonly attributes: Readonly<Record<string, string>> }>>;
  /** The stack outputs an ops CLI was pointed at: which URL or name stood for which of the stack's resources. */
  readonly outputs?: Readonly<Record<string, string>>;
  readonly accesses: readonly RecordedAccess[];
}

export class AccessLog {
  private readonly byKey = new Map<string, RecordedAccess>();
  /** Bumped on every access, so a periodic write can skip an unchanged log. */
  changes = 0;
  resources?: AccessLogFile['resources'];
  outputs?: AccessLogFile['outputs'];

  constructor(
    readonly origin: string,
    readonly account: string,
  ) {}

  listen(recorder: CallRecorder): this {
    recorder.onCall((call) => this.add(call));
    return this;
  }

  add({ record, input, region }: ObservedCall): void {
    const principal = record.principal ?? UNATTRIBUTED;
    if (principal === DEPLOYER) return;
    const sdk = `${record.service}.${record.command.replace(/Command$/, '')}`;
    const requests = iamRequestsOf({ service: record.service, command: record.command, input, region, account: this.account });
    if (requests === undefined) {
      this.count({ principal, via: record.via, sdk, context: {}, origin: this.origin, count: 0 });
      return;
    }
    for (const request of requests) {
      this.count({ principal, via: record.via, sdk, ...request, origin: this.origin, count: 0 });
    }
  }

  accesses(): RecordedAccess[] {
    return [...this.byKey.values()];
  }

  toFile(): AccessLogFile {
    return { version: 1, origin: this.origin, account: this.account, resources: this.resources, outputs: this.outputs, accesses: this.accesses() };
  }

  /** Atomic, so a reader never sees half a file. */
  write(file: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.toFile()));
    renameSync(tmp, file);
  }

  private count(access: RecordedAccess): void {
    this.changes += 1;
    const key = JSON.stringify([access.principal, access.via, access.sdk, access.action, access.resource, access.context, access.implied]);
    const existing = this.byKey.get(key);
    if (existing) existing.count += 1;
    else this.byKey.set(key, { ...access, count: 1 });
  }
}

/** Every access-log file in a directory (one per recording process). */
export function readAccessLogs(dir: string): AccessLogFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as AccessLogFile);
}
