/**
 * Where the receiver's log lines are read from: CloudWatch Logs for a deployed
 * stack (FilterLogEvents on the receiver's log group, with the operator's
 * credentials), the local stack's JSON-lines file locally (written beside its
 * outputs, the same keys Powertools writes). Both give `ReceiverAttempt`s
 * through the one classifier in receiver-log.ts.
 *
 * FilterLogEvents rather than a Logs Insights query: one synchronous, paged
 * call with a server-side filter, no query to start, poll and stop, and a
 * single IAM action on the one log group.
 */
import { createReadStream, existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DELIVERY_ID_PATTERN } from '../../lambda/core/contract';
import { RECEIVER_MESSAGES, attemptsFrom, parseLogLine, type ReceiverAttempt } from './receiver-log';

export interface LogQuery {
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  /** Only this delivery's lines. */
  readonly deliveryId?: string;
  /** At most this many attempts, the newest. @default 500 */
  readonly limit?: number;
}

export interface LogRead {
  /** Newest first. */
  readonly attempts: readonly ReceiverAttempt[];
  /** More lines matched than were read (narrow the window). */
  readonly truncated: boolean;
}

export interface ReceiverLogSource {
  /** Where the lines come from, for the page: a log group, a file. */
  readonly description: string;
  read(query: LogQuery): Promise<LogRead>;
}

export const DEFAULT_LOG_LIMIT = 500;
/** FilterLogEvents pages (each up to 1 MB or 10,000 events) read per query at most: a page view stays a few calls. */
export const MAX_LOG_PAGES = 10;

/** The local stack's log file of one function (`<dir>/<service>.jsonl`). */
export function localLogFile(dir: string, service: string): string {
  return path.join(dir, `${service}.jsonl`);
}

/**
 * A CloudWatch Logs filter pattern over the receiver's JSON lines: the lines
 * that end an attempt, or every line of one delivery. Delivery ids are checked
 * against the receiver's own rule first, so nothing can be injected into the pattern.
 */
export function receiverFilterPattern(deliveryId?: string): string {
  if (deliveryId !== undefined) {
    if (!DELIVERY_ID_PATTERN.test(deliveryId)) throw new RangeError('not a delivery id');
    return `{ $.deliveryId = "${deliveryId}" }`;
  }
  const messages = Object.values(RECEIVER_MESSAGES).map((message) => `($.message = "${message}")`);
  return `{ ${[...messages, '($.level = "ERROR")'].join(' || ')} }`;
}

export function cloudWatchReceiverLogs(client: CloudWatchLogsClient, logGroupName: string): ReceiverLogSource {
  return {
    description: `CloudWatch Logs ${logGroupName}`,
    async read(query) {
      const limit = query.limit ?? DEFAULT_LOG_LIMIT;
      const lines: Array<{ line: Record<string, unknown>; recordedAt?: number }> = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await client.send(
          new FilterLogEventsCommand({
            logGroupName,
            startTime: query.from.getTime(),
            // endTime is inclusive in FilterLogEvents; the window's end is not.
            endTime: query.to.getTime() - 1,
            filterPattern: receiverFilterPattern(query.deliveryId),
            nextToken,
          }),
        );
        pages += 1;
        for (const event of page.events ?? []) {
          const line = event.message === undefined ? undefined : parseLogLine(event.message);
          if (line !== undefined) lines.push({ line, recordedAt: event.timestamp });
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined && pages < MAX_LOG_PAGES && lines.length < limit * 4);
      const attempts = attemptsFrom(lines);
      return { attempts: attempts.slice(0, limit), truncated: nextToken !== undefined || attempts.length > limit };
    },
  };
}

/** The local stack's receiver log file, scanned line by line (it is small: one line per attempt). */
export function localReceiverLogs(file: string): ReceiverLogSource {
  return {
    description: `local log file ${file}`,
    async read(query) {
      const limit = query.limit ?? DEFAULT_LOG_LIMIT;
      if (!existsSync(file)) return { attempts: [], truncated: false };
      const from = query.from.getTime();
      const to = query.to.getTime();
      const lines: Array<{ line: Record<string, unknown> }> = [];
      const reader = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
      for await (const raw of reader) {
        const line = parseLogLine(raw);
        if (line === undefined) continue;
        const at = typeof line.timestamp === 'string' ? Date.parse(line.timestamp) : Number.NaN;
        if (!(at >= from && at < to)) continue;
        if (query.deliveryId !== undefined && line.deliveryId !== query.deliveryId) continue;
        lines.push({ line });
      }
      const attempts = attemptsFrom(lines);
      return { attempts: attempts.slice(0, limit), truncated: attempts.length > limit };
    },
  };
}
