// How long to wait before restarting a process that died: exponential, so a
// program that crashes at start does not spin, capped, so one that crashed
// many times still comes back soon after its cause is fixed.

export interface BackoffPolicy {
  /** Delay before the first restart. */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** A process that stayed up this long before dying starts over at initialMs. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000, resetAfterMs: 30_000 };

/** Delay before restart number `attempt` (0-based) of one crash streak: initialMs doubled per attempt, capped at maxMs. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  // 2 ** attempt overflows to Infinity for large attempts: Math.min caps it.
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt));
}
