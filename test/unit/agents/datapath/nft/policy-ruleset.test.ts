// The policy table as nft JSON: what a whole render holds, what a diff
// touches (in an order nft's reference checks accept), and counters read
// back from a listing in the shapes nft 1.0.6 prints.
import type { PlanFirewallPolicy } from '../../../../../model/agent-protocol.js';
import { compilePolicies } from '../../../../../agents/firewall/policy-compiler.js';
import { emptyModel } from '../../../../../agents/datapath/policy-model.js';
import { diffPolicyTable, readPolicyCounters, renderPolicyTable } from '../../../../../agents/datapath/nft/policy-ruleset.js';
import type { NftDocument, NftListObject } from '../../../../../model/nft-json.js';

const policy = (port: number, extra = false): PlanFirewallPolicy => ({
  name: 'web',
  priority: 1,
  generation: 1,
  appliesTo: 'a',
  ingress: {
    defaultAction: 'deny',
    rules: [
      { name: 'http', action: 'allow', protocol: 'tcp', ports: [[port, port]], peers: [{ cidr: '100.64.0.0/16' }] },
      ...(extra ? [{ name: 'dns', action: 'allow' as const, protocol: 'udp' as const, ports: [[53, 53]] as Array<[number, number]> }] : []),
    ],
  },
});
const sets = new Map([['a', ['100.64.0.5']]]);
const ops = (doc: NftDocument | undefined) =>
  (doc?.nftables ?? []).flatMap((c) => ('metainfo' in c ? [] : [`${Object.keys(c)[0]} ${Object.keys(Object.values(c)[0] as object)[0]}`]));

describe('policy table JSON', () => {
  test('a whole render replaces the table and holds chains, maps and entries', () => {
    const doc = renderPolicyTable(compilePolicies([policy(80)], sets));
    const o = ops(doc);
    expect(o.slice(0, 3)).toEqual(['add table', 'delete table', 'add table']);
    expect(o.filter((x) => x === 'add map')).toHaveLength(5); // one block + four entry maps
    const elems = JSON.stringify(doc);
    expect(elems).toContain('{"prefix":{"addr":"100.64.0.0","len":16}},6,80');
    expect(elems).toContain('"hook":"forward","prio":-5');
  });

  test('a one-rule edit is one element out and one in', () => {
    const a = compilePolicies([policy(80)], sets);
    const b = compilePolicies([policy(8080)], sets);
    expect(ops(diffPolicyTable(a, b))).toEqual(['delete element', 'add element']);
    expect(diffPolicyTable(b, b)).toBeUndefined();
  });

  test('adding the first policy creates before it references; removing deletes after', () => {
    const m = compilePolicies([policy(80)], sets);
    const up = ops(diffPolicyTable(emptyModel(), m));
    expect(up.indexOf('add map')).toBeLessThan(up.indexOf('add element'));
    expect(up.lastIndexOf('add chain')).toBeLessThan(up.indexOf('add rule'));
    const down = ops(diffPolicyTable(m, emptyModel()));
    expect(down.indexOf('delete element')).toBeLessThan(down.indexOf('delete chain'));
    expect(down.indexOf('delete chain')).toBeLessThan(down.indexOf('delete map'));
  });

  test('counters from a listing are credited per rule, the default to its policy', () => {
    const m = compilePolicies([policy(80, true)], sets);
    const group = m.entries.ingress.get('100.64.0.5') as string;
    const mapName = m.groups.get(group)?.maps[0] as string;
    const listing: NftListObject[] = [
      {
        map: {
          family: 'inet',
          table: 'weft-firewall',
          name: mapName,
          type: ['ipv4_addr', 'inet_proto', 'inet_service'],
          map: 'verdict',
          elem: [
            [{ elem: { val: { concat: [{ prefix: { addr: '100.64.0.0', len: 16 } }, 'tcp', 80] }, counter: { packets: 7, bytes: 700 } } }, { return: null }],
            [{ elem: { val: { concat: [{ range: ['0.0.0.0', '255.255.255.255'] }, 'udp', 53] }, counter: { packets: 2, bytes: 120 } } }, { return: null }],
          ],
        },
      },
      { rule: { family: 'inet', table: 'weft-firewall', chain: group, comment: 'default:web', expr: [{ counter: { packets: 3, bytes: 180 } }, { drop: null }] } },
      { rule: { family: 'inet', table: 'weft-firewall', chain: `${group}-r`, comment: 'default:web', expr: [{ counter: { packets: 1, bytes: 60 } }, { drop: null }] } },
    ];
    const byRule = Object.fromEntries(readPolicyCounters(listing, m).map((c) => [c.ref.rule, [c.packets, c.bytes]]));
    expect(byRule).toEqual({ http: [7, 700], dns: [2, 120], default: [4, 240] });
  });
});
