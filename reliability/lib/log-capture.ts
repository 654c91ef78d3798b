/**
 * Captures everything the handlers write (Powertools writes JSON lines to
 * stdout and stderr) for the whole run, so the scan covers every log line a
 * deployed Lambda would have sent to CloudWatch. The harness's own progress
 * goes through `say`, which bypasses the capture.
 */
import { appendFileSync, writeFileSync } from 'node:fs';

export interface LogCapture {
  /** Prints to the real stdout. */
  say(message: string): void;
  lines(): readonly string[];
  restore(): void;
}

type Write = typeof process.stdout.write;

export function captureLogs(file: string): LogCapture {
  const captured: string[] = [];
  let partial = '';
  writeFileSync(file, '');
  const originalOut = process.stdout.write.bind(process.stdout) as Write;
  const originalErr = process.stderr.write.bind(process.stderr) as Write;
  const sink = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') captured.push(line);
    if (parts.length > 0) appendFileSync(file, `${parts.join('\n')}\n`);
    const callback = rest.find((item) => typeof item === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as Write;
  process.stdout.write = sink;
  process.stderr.write = sink;
  return {
    say: (message) => {
      originalOut(`${message}\n`);
    },
    lines: () => (partial.trim() === '' ? captured : [...captured, partial]),
    restore: () => {
      process.stdout.write = originalOut;
      process.stderr.write = originalErr;
    },
  };
}

export interface LogScan {
  readonly lines: number;
  readonly secretHits: number;
  readonly signatureHits: number;
  /** Lines holding a whole raw body sent in the run. */
  readonly bodyHits: number;
  /** Lines holding a body canary: some value from inside a body. */
  readonly canaryHits: number;
  /** Canary lines that come from a schema rejection's `issues` echoing a value. */
  readonly canaryInIssues: number;
  readonly examples: readonly string[];
}

const HEX64 = /[0-9a-f]{64}/g;

export function scanLogs(
  lines: readonly string[],
  secret: string,
  signatures: ReadonlySet<string>,
  bodies: ReadonlySet<string>,
  canaryPrefix: string,
): LogScan {
  const digests = new Set([...signatures].map((signature) => signature.replace(/^sha256=/, '')));
  const longBodies = [...bodies].filter((body) => body.length >= 24);
  let secretHits = 0;
  let signatureHits = 0;
  let bodyHits = 0;
  let canaryHits = 0;
  let canaryInIssues = 0;
  const examples: string[] = [];
  for (const line of lines) {
    let bad = false;
    if (line.includes(secret)) {
      secretHits += 1;
      bad = true;
    }
    if ((line.match(HEX64) ?? []).some((hex) => digests.has(hex))) {
      signatureHits += 1;
      bad = true;
    }
    if (line.includes(canaryPrefix)) {
      canaryHits += 1;
      // Counted apart: schema issues once quoted the values they rejected.
      if (/"issues":\[/.test(line)) canaryInIssues += 1;
      bad = true;
      // The full-body check only runs on the few lines that hold some body value at all.
      if (longBodies.some((body) => line.includes(body) || line.includes(JSON.stringify(body).slice(1, -1)))) {
        bodyHits += 1;
        bad = true;
      }
    }
    if (bad && examples.length < 3) examples.push(line.slice(0, 300));
  }
  return { lines: lines.length, secretHits, signatureHits, bodyHits, canaryHits, canaryInIssues, examples };
}
