import { canonicalJson, sameJson } from '../../../../controller/util/canonical-json.js';

const byStrings = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

// Pairs whose answer sameJson must give exactly as comparing canonicalJson strings does.
const CASES: Array<[string, unknown, unknown]> = [
  ['equal objects, keys in another order', { a: 1, b: [1, { c: 'x', d: null }] }, { b: [1, { d: null, c: 'x' }], a: 1 }],
  ['a field undefined on one side, absent on the other', { a: 1, b: undefined }, { a: 1 }],
  ['a field undefined on one side, set on the other', { a: 1, b: undefined }, { a: 1, b: 2 }],
  ['different values', { a: 1 }, { a: 2 }],
  ['different kinds: 1 and "1"', 1, '1'],
  ['different kinds: null and {}', null, {}],
  ['different kinds: [] and {}', [], {}],
  ['0 and -0', { n: 0 }, { n: -0 }],
  ['NaN and null (both write null)', [NaN], [null]],
  ['Infinity and NaN', { n: Infinity }, { n: NaN }],
  ['undefined in an array writes null', [undefined], [null]],
  ['a function field is left out', { a: 1, f: () => 1 }, { a: 1 }],
  ['two Dates write {}', new Date(0), new Date(1)],
  ['a Date and {}', { d: new Date(0) }, { d: {} }],
  ['arrays of other lengths', [1, 2], [1, 2, 3]],
  ['undefined and undefined', undefined, undefined],
  ['undefined and null', undefined, null],
  ['an extra field on the right', { a: 1 }, { a: 1, b: false }],
  ['nested difference deep down', { r: [{ p: [[1, 2]] }, { p: [[3, 4]] }] }, { r: [{ p: [[1, 2]] }, { p: [[3, 5]] }] }],
  ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 }), { a: 1 }],
];

describe('sameJson', () => {
  test.each(CASES)('%s: the same answer as comparing canonical JSON', (_, a, b) => {
    expect(sameJson(a, b)).toBe(byStrings(a, b));
    expect(sameJson(b, a)).toBe(byStrings(b, a));
  });

  test('one shared object is the same as itself', () => {
    const big = { rules: Array.from({ length: 1000 }, (_, i) => ({ name: `r${i}`, ports: [[i, i]] })) };
    expect(sameJson(big, big)).toBe(true);
    expect(sameJson(big, JSON.parse(JSON.stringify(big)))).toBe(true);
  });
});
