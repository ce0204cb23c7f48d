// Four-field boxes and their packing into first-match-safe blocks.
import type { PlanPerimeterRule } from '../../../../model/vnf-protocol.js';
import { contains, overlaps, packBlocks, type NBox } from '../../../../vnf/firewall/box-packer.js';
import { ANY_ADDRESS, ANY_PORT, cidrInterval, peerIntervals, ruleBoxes } from '../../../../vnf/firewall/perimeter-boxes.js';

const none = new Map<string, string[]>();
const item = (boxes: NBox[], value: string, final = true) => ({ boxes, value, final });

describe('perimeter boxes', () => {
  test('a rule is the product of its sources, destinations and ports; omitted peers are any address', () => {
    const rule: PlanPerimeterRule = { name: 'r', action: 'allow', protocol: 'udp', ports: [[53, 53]], from: [{ cidr: '10.0.0.0/24' }, { cidr: '10.0.1.0/24' }] };
    // the two adjacent /24s merge into one source interval
    expect(ruleBoxes(rule, none)).toEqual([[[cidrInterval('10.0.0.0/23')[0], cidrInterval('10.0.0.0/23')[1]], ANY_ADDRESS, [17, 17], [53, 53]]]);
  });

  test('except cuts holes; a set peer contributes its addresses; ports count only for tcp and udp', () => {
    const [lo] = cidrInterval('10.0.0.0/24');
    expect(peerIntervals([{ cidr: '10.0.0.0/24', except: ['10.0.0.128/25'] }], none)).toEqual([[lo, lo + 127]]);
    expect(peerIntervals([{ set: 's' }], new Map([['s', ['10.0.0.9']]]))).toEqual([[lo + 9, lo + 9]]);
    const icmp: PlanPerimeterRule = { name: 'p', action: 'allow', protocol: 'icmp', ports: [[80, 80]] };
    expect(ruleBoxes(icmp, none)[0]?.[3]).toEqual(ANY_PORT);
  });
});

describe('packBlocks with four fields', () => {
  const a: NBox = [[1, 1], [10, 20], [6, 6], [80, 80]];
  const b: NBox = [[1, 1], [15, 15], [6, 6], [80, 80]];
  const c: NBox = [[1, 1], [30, 40], [6, 6], [80, 80]];

  test('overlap needs every field to overlap; containment every field to be inside', () => {
    expect(overlaps(a, b)).toBe(true);
    expect(overlaps(a, c)).toBe(false);
    expect(contains(a, b)).toBe(true);
    expect(contains(b, a)).toBe(false);
  });

  test('disjoint rules share one block; an overlapping one starts the next; a shadowed box is left out', () => {
    expect(packBlocks([item([a], 'A'), item([c], 'C')]).map((blk) => blk.map((x) => x.value))).toEqual([['A', 'C']]);
    // b lies inside a, a final rule before it: it can never match, and needs no block of its own
    expect(packBlocks([item([a], 'A'), item([b], 'B')]).map((blk) => blk.map((x) => x.value))).toEqual([['A']]);
    // a inside b's block but not contained: the next block, looked up after the first
    expect(packBlocks([item([b], 'B'), item([a], 'A')]).map((blk) => blk.map((x) => x.value))).toEqual([['B'], ['A']]);
    // behind a log box nothing is shadowed: the log must still see the packet and the next rule decide
    expect(packBlocks([item([a], 'L', false), item([b], 'B')]).map((blk) => blk.map((x) => x.value))).toEqual([['L'], ['B']]);
  });
});
