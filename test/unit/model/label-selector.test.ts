import { matchesLabelTerms, parseLabelSelectorTerms, type LabelTerm } from '../../../model/label-selector.js';

describe('parseLabelSelectorTerms', () => {
  test.each<[string, LabelTerm[]]>([
    ['app=web', [{ key: 'app', op: '=', value: 'web' }]],
    ['app==web', [{ key: 'app', op: '=', value: 'web' }]],
    ['app!=db', [{ key: 'app', op: '!=', value: 'db' }]],
    ['app=', [{ key: 'app', op: '=', value: '' }]],
    ['canary', [{ key: 'canary', op: 'exists' }]],
    ['!legacy', [{ key: 'legacy', op: 'absent' }]],
    [' app = web , weft.dev/zone!=a ', [{ key: 'app', op: '=', value: 'web' }, { key: 'weft.dev/zone', op: '!=', value: 'a' }]],
    ['app=web,tier!=db,canary,!legacy', [{ key: 'app', op: '=', value: 'web' }, { key: 'tier', op: '!=', value: 'db' }, { key: 'canary', op: 'exists' }, { key: 'legacy', op: 'absent' }]],
  ])('reads %j as terms', (text, terms) => {
    expect(parseLabelSelectorTerms(text)).toEqual({ ok: true, terms });
  });

  test.each([
    ['=web', '=web', 'key'],
    ['a b=c', 'a b=c', 'key'],
    ['-a', '-a', 'key'],
    ['a=b=c', 'a=b=c', 'value'],
    ['tier=we b', 'tier=we b', 'value'],
    ['!a=b', '!a=b', 'syntax'],
    ['a!', 'a!', 'syntax'],
    ['!!a', '!!a', 'syntax'],
    ['app=web, x=-', 'x=-', 'value'],
    ['', '', 'empty'],
    ['a=b,', '', 'empty'],
    [',', '', 'empty'],
  ])('refuses %j at the term %j: %s', (text, term, problem) => {
    const r = parseLabelSelectorTerms(text);
    expect(r).toMatchObject({ ok: false, term, problem });
    if (!r.ok) expect(r.message).not.toBe('');
  });

  test('a negated key with a value points to !=', () => {
    const r = parseLabelSelectorTerms('!tier=db');
    expect(!r.ok && r.message).toContain('key!=value');
  });

  test.each([
    ['a=b,', [{ key: 'a', op: '=', value: 'b' }]],
    [' , !a ,', [{ key: 'a', op: 'absent' }]],
    ['', []],
  ])('with skipEmpty, empty terms in %j are left out', (text, terms) => {
    expect(parseLabelSelectorTerms(text, { skipEmpty: true })).toEqual({ ok: true, terms });
  });
});

describe('matchesLabelTerms', () => {
  const labels = { app: 'web', tier: 'front' };
  test.each<[string, Record<string, string> | undefined, boolean]>([
    ['app=web', labels, true],
    ['app=db', labels, false],
    ['app!=db', labels, true],
    ['app!=web', labels, false],
    ['missing!=x', labels, true],
    ['tier', labels, true],
    ['missing', labels, false],
    ['!tier', labels, false],
    ['!missing', labels, true],
    ['app=web,tier=back', labels, false],
    ['app=web', undefined, false],
    ['app!=web', undefined, true],
    ['!app', undefined, true],
    ['', labels, true],
  ])('%j on %j -> %s', (text, l, expected) => {
    const r = parseLabelSelectorTerms(text, { skipEmpty: true });
    if (!r.ok) throw new Error(r.message);
    expect(matchesLabelTerms(l, r.terms)).toBe(expected);
  });

  test('only labels the object has count, not names every object inherits', () => {
    expect(matchesLabelTerms({ app: 'web' }, [{ key: 'constructor', op: 'exists' }])).toBe(false);
    expect(matchesLabelTerms({ app: 'web' }, [{ key: 'toString', op: 'absent' }])).toBe(true);
    expect(matchesLabelTerms({ constructor: 'x' }, [{ key: 'constructor', op: '=', value: 'x' }])).toBe(true);
  });
});
