/**
 * Bad input never changes state: whatever is wrong with a request (headers,
 * delivery id, timestamp, signature, body bytes, encoding, size, JSON shape),
 * the receiver answers a 4xx, never a 5xx and never a throw, and writes
 * nothing: no claim, no release, no mark, no archive object, no message.
 * The same arbitraries drive the HTTP fuzzing of `npm run test:reliability`.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { badCase, materialize } from '../../../reliability/lib/bad-input';
import apiGatewayEvent from '../../fixtures/receiver/api-gateway-event.json';
import { NOW, SECRET, receiverTestbed } from '../receiver/support/factories';

const CANARY = 'unit-canary-';

function toEvent(request: ReturnType<typeof materialize>): APIGatewayProxyEventV2 {
  return {
    ...(apiGatewayEvent as unknown as APIGatewayProxyEventV2),
    headers: { 'content-type': 'application/json', ...request.headers },
    body: request.encoding === 'base64' ? request.bytes.toString('base64') : request.bytes.toString('utf8'),
    isBase64Encoded: request.encoding === 'base64',
  };
}

function digestOf(headers: Record<string, string>): string | undefined {
  const value = Object.entries(headers).find(([name]) => name.toLowerCase() === 'x-webhook-signature')?.[1];
  return value === undefined ? undefined : /[0-9a-f]{64}/.exec(value)?.[0];
}

describe('the receiver under bad input', () => {
  it('answers every defective delivery with a 4xx and writes nothing anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(badCase({ canary: CANARY }), async (item) => {
        // Prepare
        const bed = receiverTestbed();
        const request = materialize(item, SECRET, NOW);

        // Act
        const answer = await bed.send(toEvent(request));

        // Assess
        expect(answer.statusCode).toBeGreaterThanOrEqual(400);
        expect(answer.statusCode).toBeLessThan(500);
        expect(bed.deliveries.calls).toEqual([]);
        expect(bed.archive.puts).toBe(0);
        expect(bed.queue.sends).toBe(0);
      }),
      { numRuns: 400 },
    );
  });

  it('never logs the secret or the signature value of a defective delivery', async () => {
    await fc.assert(
      fc.asyncProperty(badCase({ canary: CANARY }), async (item) => {
        const bed = receiverTestbed();
        const request = materialize(item, SECRET, NOW);

        await bed.send(toEvent(request));

        const logged = bed.logger.text();
        expect(logged).not.toContain(SECRET);
        const digest = digestOf(request.headers);
        if (digest !== undefined) expect(logged).not.toContain(digest);
      }),
      { numRuns: 200 },
    );
  });

  it('answers any request not signed with the secret (arbitrary headers, bytes and encoding flag) with a 4xx and writes nothing', async () => {
    const header = fc.oneof(
      fc.constantFrom('x-webhook-event', 'X-Webhook-Delivery-Id', 'x-webhook-timestamp', 'X-WEBHOOK-SIGNATURE', 'content-type'),
      fc.string({ maxLength: 20 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(header, fc.string({ maxLength: 80 }), { maxKeys: 6 }),
        fc.option(fc.uint8Array({ maxLength: 512 }), { nil: undefined }),
        fc.boolean(),
        async (headers, bytes, base64) => {
          const bed = receiverTestbed();
          const event: APIGatewayProxyEventV2 = {
            ...(apiGatewayEvent as unknown as APIGatewayProxyEventV2),
            headers,
            body: bytes === undefined ? undefined : Buffer.from(bytes).toString(base64 ? 'base64' : 'latin1'),
            isBase64Encoded: base64,
          };

          const answer = await bed.send(event);

          expect(answer.statusCode).toBeGreaterThanOrEqual(400);
          expect(answer.statusCode).toBeLessThan(500);
          expect(bed.nothingWritten()).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
