/**
 * Receiver Lambda entry point (placeholder while the core lands): answers 503 so
 * a synthesized stack never accepts a delivery it cannot process.
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';

export async function handler(): Promise<APIGatewayProxyResultV2> {
  return {
    statusCode: 503,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'error', reason: 'transient' }),
  };
}
