import { checkTimings, formatDuration, parseDurationMs } from '../../../controller/config.js';

describe('parseDurationMs', () => {
  it.each([
    ['15s', 15_000],
    ['2m', 120_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    [' 10s ', 10_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each([
    ['15', /a bare number has no unit: did you mean 15s\?/],
    ['', /is not a duration/],
    ['15 s', /is not a duration.*e\.g\. 15s, 2m or 1m30s/],
    ['1d', /is not a duration/],
    ['-5s', /is not a duration/],
    ['0s', /is zero/],
    ['200h', /longer than a week/],
  ])('%j is refused', (text, message) => {
    expect(() => parseDurationMs(text)).toThrow(message);
  });
});

describe('checkTimings', () => {
  const ok = { heartbeatTimeoutMs: 15_000, hostGoneAfterMs: 60_000, blockReclaimGraceMs: 600_000 };
  it('accepts the defaults', () => expect(() => checkTimings(ok)).not.toThrow());
  it('needs no order between them: the grace period starts once the host is NotReady', () => {
    expect(() => checkTimings({ ...ok, heartbeatTimeoutMs: 120_000 })).not.toThrow();
  });
  it('refuses non-positive values', () => expect(() => checkTimings({ ...ok, heartbeatTimeoutMs: 0 })).toThrow(/heartbeatTimeoutMs must be between/));
});

test('formatDuration writes what parseDurationMs reads', () => {
  for (const ms of [500, 15_000, 90_000, 3_600_000, 3_723_004]) expect(parseDurationMs(formatDuration(ms))).toBe(ms);
  expect(formatDuration(90_000)).toBe('1m30s');
});
