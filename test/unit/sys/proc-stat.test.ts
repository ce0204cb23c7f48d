import { isLiveState, parseProcStat } from '../../../sys/proc-stat.js';

// Field 22 (start time) is 987654 in both lines.
const SLEEPING = '4242 (haproxy) S 1 4242 4242 0 -1 4194560 300 0 0 0 1 2 0 0 20 0 1 0 987654 10000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0';
const ODD_NAME = '77 (a) b (c)) Z 12 77 77 0 -1 4194560 300 0 0 0 1 2 0 0 20 0 1 0 987654 0 0 18446744073709551615';

describe('parseProcStat', () => {
  it('reads state, parent, process group and start time', () => {
    expect(parseProcStat(SLEEPING)).toEqual({ state: 'S', ppid: 1, pgrp: 4242, startTime: '987654' });
  });

  it('finds the fields after the last ")" when the command name holds spaces and parentheses', () => {
    expect(parseProcStat(ODD_NAME)).toEqual({ state: 'Z', ppid: 12, pgrp: 77, startTime: '987654' });
  });

  it.each(['', 'garbage', '1 (x) S 1 2', '1 (x) ? 1 1 1'])('is undefined for %j', (text) => {
    expect(parseProcStat(text)).toBeUndefined();
  });
});

describe('isLiveState', () => {
  it.each([
    ['R', true],
    ['S', true],
    ['D', true],
    ['T', true],
    ['Z', false],
    ['X', false],
  ])('%s -> %s', (state, live) => {
    expect(isLiveState(state)).toBe(live);
  });
});
