// renderGuard / diffGuard for dual-stack ports: the whole table against a
// golden document (nft 1.0.6 applied it, and the element diffs below on top,
// in a fresh namespace: test/kernel/lab/dual-stack.test.ts drives the same
// documents through attaches and detaches).
import { readFileSync } from 'node:fs';
import { diffGuard, portChain, renderGuard } from '../../../../../agents/datapath/nft/guard-ruleset.js';
import type { GuardedPort } from '../../../../../agents/datapath/policy-table-port.js';
import type { NftCommand, NftDocument } from '../../../../../model/nft-json.js';

const v4: GuardedPort = { ifname: 'wv-aaaa', mac: '02:00:00:00:00:0a', ip: '100.64.0.10' };
const dual: GuardedPort = { ifname: 'wv-bbbb', mac: '02:00:00:00:00:0b', ip: '100.64.1.11', ip6: 'fd00:1::b' };

const commands = (doc: NftDocument | undefined): NftCommand[] => (doc?.nftables ?? []).filter((c): c is NftCommand => !('metainfo' in c));
/** "verb kind name" of each command, e.g. "add chain p6-wv-bbbb", "delete element ip6-port". */
const outline = (doc: NftDocument | undefined): string[] =>
  commands(doc).map((c) => {
    const [verb, target] = Object.entries(c)[0] as [string, Record<string, { name?: string; chain?: string }>];
    const [kind, o] = Object.entries(target)[0] as [string, { name?: string; chain?: string }];
    return `${verb} ${kind} ${kind === 'rule' ? (o.chain ?? '') : (o.name ?? '')}`;
  });

test('the whole table for an IPv4-only and a dual-stack port is the golden document', () => {
  const golden = JSON.parse(readFileSync(new URL('./golden/guard-dual-stack.json', import.meta.url), 'utf8')) as unknown;
  expect(renderGuard([v4, dual], ['wv-aaaa'], ['wv-aaaa'])).toEqual(golden);
});

test('a dual-stack port gets its own chain and map element; an IPv4-only port neither', () => {
  const lines = outline(renderGuard([v4, dual]));
  expect(lines.filter((l) => l.includes(' p6-'))).toEqual([
    'add chain p6-wv-bbbb',
    'add rule p6-wv-bbbb',
    'add rule p6-wv-bbbb',
    'add rule p6-wv-bbbb',
    'add rule p6-wv-bbbb',
  ]);
  expect(lines).toContain('add element ip6-port');
  expect(lines.some((l) => l.includes('wv-aaaa'))).toBe(false);
  expect(portChain('wv-bbbb')).toBe('p6-wv-bbbb');
});

test('the port chain allows exactly its own address and the link-local address of its MAC, also as a neighbour-discovery target', () => {
  const text = JSON.stringify(commands(renderGuard([dual])).filter((c) => 'add' in c && 'rule' in c.add && c.add.rule.chain === 'p6-wv-bbbb'));
  expect(text).toContain('"fd00:1::b"');
  expect(text).toContain('"fe80::ff:fe00:b"');
  expect(text).toContain('"0xfd00000100000000000000000000000b"');
  expect(text).toContain('"0xfe80000000000000000000fffe00000b"');
  expect(text).toContain('nd-neighbor-advert');
});

test('admitting a dual-stack port adds its chain before the map element that refers to it', () => {
  expect(outline(diffGuard([dual], []))).toEqual([
    'add element mac-src',
    'add element ip-src',
    'add chain p6-wv-bbbb',
    'add rule p6-wv-bbbb',
    'add rule p6-wv-bbbb',
    'add rule p6-wv-bbbb',
    'add rule p6-wv-bbbb',
    'add element ip6-port',
  ]);
});

test('removing a dual-stack port deletes the map element, then the chain', () => {
  expect(outline(diffGuard([], [dual]))).toEqual(['delete element ip-src', 'delete element mac-src', 'delete element ip6-port', 'delete chain p6-wv-bbbb']);
});

test('an IPv4-only port changes only the address sets', () => {
  expect(outline(diffGuard([v4], [])).every((l) => / (mac|ip)-src$/.test(l))).toBe(true);
});

test('the no-ip6 set changes like the policed set, in the same transaction', () => {
  expect(outline(diffGuard([], [], { add: ['wv-aaaa'], remove: [] }, { add: ['wv-aaaa'], remove: ['wv-bbbb'] }))).toEqual([
    'add element policed',
    'delete element no-ip6',
    'add element no-ip6',
  ]);
  expect(diffGuard([], [])).toBeUndefined();
});
