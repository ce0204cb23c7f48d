// At most `perSecond` events in each wall-clock second; the rest are refused
// (and counted by the caller). A fixed window rather than a token bucket:
// the limit guards the agent's event loop and log volume, not a network
// contract, and a fixed window is easy to reason about in tests.
export class RateLimiter {
  private readonly perSecond: number;
  private window = -1;
  private used = 0;

  constructor(perSecond: number) {
    if (!(perSecond >= 0)) throw new RangeError(`rate limit must be >= 0, got ${perSecond}`);
    this.perSecond = perSecond;
  }

  /** Take one event at time `nowMs`; false when this second's budget is spent. */
  take(nowMs: number): boolean {
    const window = Math.floor(nowMs / 1000);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    if (this.used >= this.perSecond) return false;
    this.used++;
    return true;
  }
}
