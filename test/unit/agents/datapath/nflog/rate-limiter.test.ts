import { RateLimiter } from '../../../../../agents/datapath/nflog/rate-limiter.js';

describe('RateLimiter', () => {
  it('allows perSecond events per wall-clock second, then refuses until the next second', () => {
    const limiter = new RateLimiter(3);
    const taken = [1000, 1100, 1200, 1300, 1999, 2000, 2001].map((t) => limiter.take(t));
    expect(taken).toEqual([true, true, true, false, false, true, true]);
  });

  it('refuses everything at 0 and rejects a negative limit', () => {
    expect(new RateLimiter(0).take(0)).toBe(false);
    expect(() => new RateLimiter(-1)).toThrow(RangeError);
  });
});
