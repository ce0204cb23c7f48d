import { parseLabelSelector } from '../../../../controller/status/label-selector.js';
import { WeftError } from '../../../../model/errors.js';

describe('parseLabelSelector', () => {
  const labels = { app: 'web', tier: 'front', 'weft.dev/zone': 'a' };
  test.each([
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['weft.dev/zone=a', true],
    ['missing!=x', true],
  ])('%s -> %s', (sel, expected) => {
    expect(parseLabelSelector(sel)(labels)).toBe(expected);
  });

  test('no labels at all', () => {
    expect(parseLabelSelector('app=web')(undefined)).toBe(false);
    expect(parseLabelSelector('!app')(undefined)).toBe(true);
  });

  test.each(['a=b=c', '=x', '!a=b', 'a b=c', ','])('%j is Invalid', (sel) => {
    expect(() => parseLabelSelector(sel)).toThrow(WeftError);
  });
});
