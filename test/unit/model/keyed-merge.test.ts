// mergeByKey against the plain definition (a map by key, removals then
// upserts, sorted), on random sorted and unsorted lists.
import { mergeByKey } from '../../../model/keyed-merge.js';

interface Item {
  k: string;
  v: number;
}
const key = (x: Item) => x.k;

function reference(current: Item[], remove: string[], upsert: Item[]): Item[] {
  const m = new Map(current.map((x) => [x.k, x]));
  for (const k of remove) m.delete(k);
  for (const x of upsert) m.set(x.k, x);
  return [...m.values()].sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
}

describe('mergeByKey', () => {
  test('removals first, then upserts; an upsert of a removed key keeps it; the last upsert of a key wins', () => {
    const current = [{ k: 'a', v: 1 }, { k: 'c', v: 1 }, { k: 'e', v: 1 }];
    expect(mergeByKey(current, ['c', 'e', 'x'], [{ k: 'e', v: 2 }, { k: 'b', v: 2 }, { k: 'b', v: 3 }, { k: 'f', v: 2 }], key)).toEqual([
      { k: 'a', v: 1 },
      { k: 'b', v: 3 },
      { k: 'e', v: 2 },
      { k: 'f', v: 2 },
    ]);
  });

  test('the same as the plain definition on 500 random lists, sorted or not', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const name = () => `k${rnd(60)}`;
    for (let round = 0; round < 500; round++) {
      const unique = new Map<string, Item>();
      for (let i = rnd(30); i > 0; i--) unique.set(name(), { k: '', v: round });
      let current = [...unique.keys()].map((k) => ({ k, v: round }));
      current = round % 5 === 0 ? current : reference(current, [], []);
      const remove = Array.from({ length: rnd(8) }, name);
      const upsert = Array.from({ length: rnd(8) }, () => ({ k: name(), v: -round }));
      expect(mergeByKey(current, remove, upsert, key)).toEqual(reference(current, remove, upsert));
    }
  });
});
