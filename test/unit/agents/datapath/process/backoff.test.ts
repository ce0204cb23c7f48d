import { backoffDelay, DEFAULT_BACKOFF } from '../../../../../agents/datapath/process/backoff.js';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 10_000, resetAfterMs: 30_000 };

  it.each([
    [0, 100],
    [1, 200],
    [2, 400],
    [6, 6400],
    [7, 10_000],
    [50, 10_000],
    [5000, 10_000],
  ])('attempt %i waits %i ms (doubling from initialMs, capped at maxMs)', (attempt, ms) => {
    expect(backoffDelay(attempt, policy)).toBe(ms);
  });

  it('a negative attempt counts as the first', () => {
    expect(backoffDelay(-3, policy)).toBe(100);
  });

  it('the default policy is 100 ms doubling to 10 s', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF)).toBe(100);
    expect(backoffDelay(100, DEFAULT_BACKOFF)).toBe(10_000);
  });
});
