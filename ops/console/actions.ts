/**
 * The console's long-running actions (a replay's dry run, a replay, a
 * redrive): each runs in the background from a POST, and its page follows its
 * progress, its output lines and its summary. Kept in memory for the run: the
 * last few dozen, newest first.
 */
import { randomBytes } from 'node:crypto';
import type { Progress } from '../lib/cli-progress';
import { describeError } from '../lib/cli-usage';

export type ActionKind = 'replay-dry-run' | 'replay' | 'redrive';
export type ActionStatus = 'running' | 'done' | 'failed';

export interface ActionRecord<Result = unknown> {
  readonly id: string;
  readonly kind: ActionKind;
  readonly title: string;
  /** The CLI command that does the same. */
  readonly cli: string;
  /** The CLI arguments (without `npm run <tool> --`). */
  readonly argv: readonly string[];
  readonly startedAt: string;
  status: ActionStatus;
  finishedAt?: string;
  /** What is being done now (the CLI's progress status). */
  progress: { done: number; total?: number; status: string };
  /** The CLI's stdout lines, the last MAX_LINES of them. */
  readonly lines: string[];
  droppedLines: number;
  summary: string[];
  /** The action completed but something was refused or could not be moved (exit code 1 for the CLI). */
  incomplete: boolean;
  error?: string;
  result?: Result;
}

export interface ActionReporter {
  line(text: string): void;
  /** The CLI's progress interface, fed into this action's record. */
  progress(total: number): Progress;
  status(text: string): void;
}

export const MAX_LINES = 500;
const KEEP = 30;

export class ActionRegistry {
  private readonly records = new Map<string, ActionRecord>();

  start<Result>(
    kind: ActionKind,
    title: string,
    tool: { readonly cli: string; readonly argv: readonly string[] },
    work: (report: ActionReporter) => Promise<{ readonly result: Result; readonly summary: readonly string[]; readonly incomplete: boolean }>,
  ): ActionRecord<Result> {
    const record: ActionRecord<Result> = {
      id: randomBytes(8).toString('hex'),
      kind,
      title,
      cli: tool.cli,
      argv: tool.argv,
      startedAt: new Date().toISOString(),
      status: 'running',
      progress: { done: 0, status: 'starting' },
      lines: [],
      droppedLines: 0,
      summary: [],
      incomplete: false,
    };
    const report: ActionReporter = {
      line: (text) => {
        record.lines.push(text);
        if (record.lines.length > MAX_LINES) {
          record.lines.shift();
          record.droppedLines += 1;
        }
      },
      progress: (total) => {
        record.progress = { done: 0, total, status: 'reading' };
        const update = (done: number, status: string): void => {
          record.progress = { done, total, status };
        };
        return { update, finish: update, clear: () => undefined };
      },
      status: (text) => {
        record.progress = { ...record.progress, status: text };
      },
    };
    this.records.set(record.id, record as ActionRecord);
    for (const id of [...this.records.keys()].slice(0, Math.max(0, this.records.size - KEEP))) this.records.delete(id);
    work(report).then(
      ({ result, summary, incomplete }) => {
        record.result = result;
        record.summary = [...summary];
        record.incomplete = incomplete;
        record.status = 'done';
        record.finishedAt = new Date().toISOString();
      },
      (error: unknown) => {
        record.error = describeError(error);
        record.status = 'failed';
        record.finishedAt = new Date().toISOString();
      },
    );
    return record;
  }

  get(id: string): ActionRecord | undefined {
    return this.records.get(id);
  }

  /** Newest first. */
  list(): ActionRecord[] {
    return [...this.records.values()].reverse();
  }
}
