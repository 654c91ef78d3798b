/** A Lambda `Context` for handlers invoked by the local stack, with a real remaining-time clock. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export const LOCAL_ACCOUNT_ID = '000000000000';

export function localLambdaContext(options: {
  readonly functionName: string;
  readonly region: string;
  readonly timeoutMs: number;
  readonly startedAt?: number;
}): Context {
  const startedAt = options.startedAt ?? Date.now();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${LOCAL_ACCOUNT_ID}:function:${options.functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, options.timeoutMs - (Date.now() - startedAt)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Resolves with the handler's result, or with `timedOut` once the function timeout has passed (as Lambda would stop it). */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<{ readonly timedOut: false; readonly value: T } | { readonly timedOut: true }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ timedOut: true }>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
  });
  try {
    return await Promise.race([work.then((value) => ({ timedOut: false as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
