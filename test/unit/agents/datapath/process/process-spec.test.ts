import { DatapathError } from '../../../../../agents/datapath/errors.js';
import type { ProcessSpec } from '../../../../../agents/datapath/process-supervisor.js';
import { processObject, sameProgram, validateProcessSpec } from '../../../../../agents/datapath/process/process-spec.js';

const good: ProcessSpec = {
  id: 'lb1/haproxy',
  netns: '/run/netns/wv-lb1',
  argv: ['/usr/sbin/haproxy', '-W', '-f', '/run/weft/lb1/haproxy.cfg'],
  env: { LANG: 'C' },
  reload: { signal: 'SIGUSR2' },
  configHash: 'abc',
};

function refusal(spec: ProcessSpec): DatapathError {
  try {
    validateProcessSpec(spec);
  } catch (err: unknown) {
    if (err instanceof DatapathError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('validateProcessSpec', () => {
  it('accepts a complete spec, and one with only id, netns and argv', () => {
    expect(() => validateProcessSpec(good)).not.toThrow();
    expect(() => validateProcessSpec({ id: 'a', netns: '/run/netns/a', argv: ['/bin/true'] })).not.toThrow();
  });

  it.each<[string, Partial<ProcessSpec>]>([
    ['an empty id', { id: '' }],
    ['an id with NUL', { id: 'a\0b' }],
    ['an id too long for a file name', { id: 'x'.repeat(300) }],
    ['a relative netns', { netns: 'wv-lb1' }],
    ['no argv', { argv: [] }],
    ['a relative program (no PATH lookup)', { argv: ['haproxy', '-f', 'x'] }],
    ['an argument with NUL', { argv: ['/bin/sh', 'a\0b'] }],
    ['an env name with "="', { env: { 'A=B': 'x' } }],
    ['an empty env name', { env: { '': 'x' } }],
    ['an unknown reload signal', { reload: { signal: 'SIGNOPE' as NodeJS.Signals } }],
  ])('refuses %s with EINVAL, the reason in cause', (_what, change) => {
    const err = refusal({ ...good, ...change });
    expect(err).toMatchObject({ op: 'ensure', errno: 'EINVAL' });
    expect(err.cause).toBeInstanceOf(RangeError);
  });

  it('names the process in the message', () => {
    expect(refusal({ ...good, argv: ['x'] }).message).toBe(`ensure ${processObject('lb1/haproxy')}: EINVAL`);
    expect(processObject('lb1/haproxy')).toBe('process "lb1/haproxy"');
  });
});

describe('sameProgram', () => {
  it('ignores configHash and the reload signal: a reload covers those', () => {
    expect(sameProgram(good, { ...good, configHash: 'other', reload: { signal: 'SIGHUP' } })).toBe(true);
    expect(sameProgram(good, { ...good, reload: undefined })).toBe(true);
  });

  it('treats no env and an empty env alike', () => {
    expect(sameProgram({ ...good, env: undefined }, { ...good, env: {} })).toBe(true);
  });

  it.each<[string, Partial<ProcessSpec>]>([
    ['argv', { argv: [...good.argv, '-d'] }],
    ['netns', { netns: '/run/netns/other' }],
    ['env value', { env: { LANG: 'C.UTF-8' } }],
    ['env names', { env: { LANG: 'C', TZ: 'UTC' } }],
  ])('a different %s is another program', (_what, change) => {
    expect(sameProgram(good, { ...good, ...change })).toBe(false);
  });
});
