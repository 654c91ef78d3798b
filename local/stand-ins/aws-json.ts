/**
 * The wire of the AWS JSON 1.1 protocol the stand-ins speak (EventBridge,
 * Firehose, Secrets Manager): the request's whole body, and an answer with the
 * headers the SDK reads (content type, request id, `x-amzn-errortype` on errors).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const AWS_JSON_11 = 'application/x-amz-json-1.1';

/** The request's body as text (UTF-8). */
export async function readRequestText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One AWS JSON 1.1 answer; `errorType` names the error the SDK raises. */
export function answerAwsJson(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': AWS_JSON_11,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(text);
}
