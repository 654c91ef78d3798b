/**
 * The local stand-in for a function's CloudWatch log group: every line the
 * receiver logs is also appended, as one JSON object per line, to
 * `<state dir>/logs/<service>.jsonl`, with the keys Powertools writes
 * (`level`, `message`, `timestamp`, `service`, `correlation_id`,
 * `function_request_id`, then the line's own). The ops console reads it where a
 * deployed stack's lines are read with FilterLogEvents: refused deliveries are
 * in no table, only in these lines.
 *
 * Lines at INFO and above are written whatever POWERTOOLS_LOG_LEVEL the stack
 * runs with: the file stands for a deployed function's log group at its default
 * level (INFO), which is what the console reads.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import type { InvocationLogger } from '../lambda/adapters/powertools-ports';

export interface HandlerLogFile {
  readonly file: string;
  write(line: Readonly<Record<string, unknown>>): void;
  close(): Promise<void>;
}

export function openHandlerLogFile(file: string): HandlerLogFile {
  mkdirSync(path.dirname(file), { recursive: true });
  // Appended, buffered by the stream: a request never waits on the disk.
  const stream: WriteStream = createWriteStream(file, { flags: 'a' });
  let closed = false;
  return {
    file,
    write: (line) => {
      if (!closed) stream.write(`${JSON.stringify(line)}\n`);
    },
    close: () =>
      new Promise((resolve) => {
        if (closed) return resolve();
        closed = true;
        stream.end(() => resolve());
      }),
  };
}

/** The receiver's logger, also writing each line to `file` as Powertools would print it. */
export function teeInvocationLogger(inner: InvocationLogger, file: HandlerLogFile, service: string, now: () => Date = () => new Date()): InvocationLogger {
  let correlationId: string | undefined;
  let requestId: string | undefined;
  const write = (level: 'INFO' | 'WARN' | 'ERROR', message: string, attributes: Record<string, unknown> | undefined): void => {
    file.write({
      level,
      message,
      timestamp: now().toISOString(),
      service,
      ...(correlationId !== undefined ? { correlation_id: correlationId } : {}),
      ...(requestId !== undefined ? { function_request_id: requestId } : {}),
      ...attributes,
    });
  };
  return {
    info: (message, attributes) => {
      inner.info(message, attributes);
      write('INFO', message, attributes);
    },
    warn: (message, attributes) => {
      inner.warn(message, attributes);
      write('WARN', message, attributes);
    },
    error: (message, attributes) => {
      inner.error(message, attributes);
      write('ERROR', message, attributes);
    },
    setCorrelationId: (value) => {
      correlationId = value;
      inner.setCorrelationId(value);
    },
    beginInvocation: (context) => {
      correlationId = undefined;
      requestId = context?.awsRequestId;
      inner.beginInvocation(context);
    },
  };
}
