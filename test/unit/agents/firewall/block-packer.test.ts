// First-match order kept by packing: rules share a lookup only when no two
// of their boxes overlap; shadowed boxes are dropped, log boxes never shadow.
import { packBlocks, type PackItem } from '../../../../agents/firewall/block-packer.js';
import { ANY_PORT, type Box } from '../../../../agents/firewall/rule-boxes.js';

const TCP = [6, 6] as const;
const box = (addr: [number, number], port: readonly [number, number] = ANY_PORT, proto: readonly [number, number] = TCP): Box => [addr, proto, port];
const item = (value: string, boxes: Box[], final = true): PackItem<string> => ({ boxes, final, value });
const values = (blocks: ReturnType<typeof packBlocks<string>>) => blocks.map((b) => b.map((x) => x.value));

describe('packBlocks', () => {
  test('disjoint rules of any action share one lookup', () => {
    const blocks = packBlocks([item('a', [box([1, 1], [80, 80])]), item('b', [box([1, 1], [81, 81])]), item('c', [box([2, 2], [80, 80])])]);
    expect(values(blocks)).toEqual([['a', 'b', 'c']]);
  });

  test('10,000 distinct peers stay one lookup', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => item(String(i), [box([i, i], [80, 80])]));
    expect(packBlocks(items)).toHaveLength(1);
  });

  test('a later rule overlapping an earlier one starts a new lookup after it', () => {
    const blocks = packBlocks([item('deny-one', [box([5, 5], [443, 443])]), item('allow-range', [box([0, 255])]), item('other', [box([300, 300])])]);
    expect(values(blocks)).toEqual([['deny-one'], ['allow-range', 'other']]);
  });

  test('a box inside an earlier final box of the same lookup is unreachable and left out', () => {
    const blocks = packBlocks([item('wide', [box([0, 255])]), item('narrow', [box([7, 7], [80, 80])])]);
    expect(values(blocks)).toEqual([['wide']]);
  });

  test('a log box never shadows: the rule after it gets its own lookup', () => {
    const blocks = packBlocks([item('log', [box([0, 255])], false), item('allow', [box([7, 7], [80, 80])])]);
    expect(values(blocks)).toEqual([['log'], ['allow']]);
  });

  test('an empty rule list packs to no lookups', () => {
    expect(packBlocks([])).toEqual([]);
  });
});
