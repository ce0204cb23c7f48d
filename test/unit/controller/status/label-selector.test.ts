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

describe('parseLabelSelector refusals', () => {
  test('name the bad term, the whole selector and the grammar', () => {
    let thrown: unknown;
    try {
      parseLabelSelector('app=web,!tier=db');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(WeftError);
    const e = thrown as WeftError;
    expect(e.code).toBe('Invalid');
    expect(e.message).toBe('labelSelector term "!tier=db" is not valid');
    expect(e.details).toEqual([{ path: 'labelSelector', message: 'cannot parse "!tier=db"', value: 'app=web,!tier=db', allowed: 'comma-separated key=value, key!=value, key or !key' }]);
  });

  test('an empty term is refused, as at the end of "app=web,"', () => {
    expect(() => parseLabelSelector('app=web,')).toThrow('labelSelector term "" is not valid');
  });
});
