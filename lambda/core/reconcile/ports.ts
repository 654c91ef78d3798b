/**
 * The reconciler's own ports, beside the shared ones (`Queue`, `Archive`) in
 * `../ports.ts`: the open-jobs index, the provider's job API and the marks the
 * reconciler leaves on a job item.
 */

/** One entry of the open-jobs index (the projected attributes only). */
export interface OpenJobEntry {
  readonly jobId: string;
  readonly openedAt: string;
  readonly checkedAt?: string;
  readonly flag?: string;
}

export interface OpenJobIndex {
  /** Every open job of one shard opened before `openedBefore` (UTC ISO), oldest first; the adapter pages. */
  query(shard: number, openedBefore: string): AsyncIterable<OpenJobEntry>;
}

/** What one call to `GET /v1/jobs/{id}` came to; the adapter never throws. */
export type ProviderLookup =
  /** 200 with a body of at most the answer limit. */
  | { readonly kind: 'answer'; readonly text: string }
  | { readonly kind: 'not_found' }
  /** 429; the delay it asked for, when it said. */
  | { readonly kind: 'rate_limited'; readonly retryAfterMs?: number }
  /** 5xx, a time-out or a network failure: try again later. */
  | { readonly kind: 'unavailable'; readonly detail: string }
  /** 401 or 403: the key is wrong or revoked; every call would fail. */
  | { readonly kind: 'refused'; readonly status: number }
  /** Anything else (another 4xx, a redirect, an oversized answer). */
  | { readonly kind: 'unexpected'; readonly detail: string };

export interface ProviderJobApi {
  getJob(jobId: string): Promise<ProviderLookup>;
}

export type MarkResult = 'marked' | 'closed';

export interface JobMarks {
  /** Records that the provider still reports the job open; only while it is open (`closed` otherwise). */
  markChecked(jobId: string, at: Date, providerStatus: string): Promise<MarkResult>;
  /** Flags an open job for ops: `not_found` (unknown to the provider) or `gave_up` (past giveUpAfter). */
  flag(jobId: string, reason: FlagReason, at: Date, providerStatus?: string): Promise<MarkResult>;
}

export type FlagReason = 'not_found' | 'gave_up';
