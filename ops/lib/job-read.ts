/**
 * Reading one job item as ops look at it: the worker's own attributes first, in
 * the order a support engineer reads them, then the rest. `npm run job` prints
 * it; the console renders it (with the product's own attributes apart).
 */
import { isStackOwnedJobAttribute } from '../../lambda/core/contract';
import type { JobItem } from '../../lambda/core/job-state';
import type { JobStore } from '../../lambda/core/ports';

/** The attributes an operator reads first, in this order. */
const LEADING = ['jobId', 'status', 'model', 'outputFormat', 'background', 'outputUrl', 'error', 'creditsUsed'] as const;

export function orderJobItem(item: JobItem): Record<string, unknown> {
  const ordered: Record<string, unknown> = {};
  for (const name of LEADING) ordered[name] = item[name];
  for (const [name, value] of Object.entries(item)) if (!(name in ordered)) ordered[name] = value;
  return ordered;
}

export interface JobView {
  readonly item: JobItem;
  /** The stack's attributes (contract JOB_ATTRIBUTES and what the other features add), leading ones first. */
  readonly stack: Readonly<Record<string, unknown>>;
  /** Everything else on the item: the product's own attributes, never written by the stack. */
  readonly product: Readonly<Record<string, unknown>>;
}

export function splitJobItem(item: JobItem): JobView {
  const stack: Record<string, unknown> = {};
  const product: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(orderJobItem(item))) {
    if (isStackOwnedJobAttribute(name)) stack[name] = value;
    else product[name] = value;
  }
  return { item, stack, product };
}

/** A strongly consistent read (the store's own), so a page shows what the worker last wrote. */
export async function readJob(jobs: Pick<JobStore, 'get'>, jobId: string): Promise<JobView | undefined> {
  const item = await jobs.get(jobId);
  return item === undefined ? undefined : splitJobItem(item);
}
