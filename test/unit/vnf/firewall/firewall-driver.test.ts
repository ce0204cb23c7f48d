// The Firewall VNF driver: rules -> boxes -> blocks -> the nft document
// (golden JSON), interfaces and sysctls; counters read back from a listing.
import type { PlanFirewallSpec, PlanPerimeterRule } from '../../../../model/firewall-vnf.js';
import type { PlanVnf } from '../../../../model/vnf-protocol.js';
import { compileFirewallRules } from '../../../../vnf/firewall/compile-rules.js';
import { firewallDriver, renderFirewallVnf } from '../../../../vnf/firewall/firewall-driver.js';
import { readFirewallCounters } from '../../../../vnf/firewall/read-counters.js';
import { renderPortTable } from '../../../../vnf/port-table.js';
import { renderFirewallTable } from '../../../../vnf/firewall/render-table.js';

const rule = (r: Partial<PlanPerimeterRule> & Pick<PlanPerimeterRule, 'name' | 'action'>): PlanPerimeterRule => ({ protocol: 'any', ...r });

function fw(rules: PlanPerimeterRule[], extra: Partial<PlanFirewallSpec> = {}): PlanVnf<PlanFirewallSpec> {
  return {
    kind: 'Firewall',
    name: 'edge',
    generation: 3,
    netns: 'wn.h1.firewall.edge',
    interfaces: [
      { network: 'front', ip: '10.1.0.254', prefixLength: 24, mac: '0A:77:00:00:00:01', mtu: 1450, hostIfname: 'wf-0000aaaa', ifname: 'n-front' },
      { network: 'back', ip: '10.2.0.254', prefixLength: 24, mac: '0a:77:00:00:00:02', mtu: 1450, hostIfname: 'wf-0000bbbb', ifname: 'n-back' },
    ],
    spec: { defaultAction: 'deny', rules, addressSets: [], ...extra },
  };
}

const firewallSpec = (rules: PlanPerimeterRule[], extra: Partial<PlanFirewallSpec> = {}): PlanFirewallSpec => fw(rules, extra).spec;

const WEB = rule({ name: 'web', action: 'allow', protocol: 'tcp', ports: [[80, 80], [443, 443]], from: [{ cidr: '10.1.0.0/24' }], to: [{ set: 'peer:back:app=web' }] });

describe('renderFirewallVnf', () => {
  test('the namespace, forwarding inside it only, and one veth per guarded network with the planned MAC (lower case)', () => {
    const want = renderFirewallVnf(fw([WEB]));
    expect(want).toMatchObject({ name: 'edge', generation: 3, netns: 'wn.h1.firewall.edge', sysctls: { 'net.ipv4.ip_forward': '1' } });
    expect(want.interfaces).toEqual([
      { network: 'front', hostIfname: 'wf-0000aaaa', alias: 'weft:vnf:firewall/edge/front', ifname: 'n-front', ip: '10.1.0.254', prefixLength: 24, mac: '0a:77:00:00:00:01', mtu: 1450 },
      { network: 'back', hostIfname: 'wf-0000bbbb', alias: 'weft:vnf:firewall/edge/back', ifname: 'n-back', ip: '10.2.0.254', prefixLength: 24, mac: '0a:77:00:00:00:02', mtu: 1450 },
    ]);
  });

  test('golden: the whole table, replaced in one transaction; replies looked up by mirrored fields in the same maps', () => {
    const sets = [{ name: 'peer:back:app=web', addresses: ['10.2.0.7', '10.2.0.8'] }];
    const logged = rule({ name: 'audit', action: 'log', protocol: 'icmp' });
    const doc = renderFirewallVnf(fw([logged, WEB, rule({ name: 'no-ssh', action: 'reject', protocol: 'tcp', ports: [[22, 22]] })], { addressSets: sets })).nft?.document;
    const T = { family: 'inet', table: 'weft-vnf-firewall' };
    const key = (reply: boolean) =>
      reply
        ? { concat: [{ payload: { protocol: 'ip', field: 'daddr' } }, { payload: { protocol: 'ip', field: 'saddr' } }, { meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'sport' } }] }
        : { concat: [{ payload: { protocol: 'ip', field: 'saddr' } }, { payload: { protocol: 'ip', field: 'daddr' } }, { meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] };
    const MAP = { ...T, type: ['ipv4_addr', 'ipv4_addr', 'inet_proto', 'inet_service'], map: 'verdict', flags: ['interval'], stmt: [{ counter: null }] };
    const ANY = { prefix: { addr: '0.0.0.0', len: 0 } };
    expect(doc).toEqual({
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { add: { table: { family: 'inet', name: 'weft-vnf-firewall' } } },
        { delete: { table: { family: 'inet', name: 'weft-vnf-firewall' } } },
        { add: { table: { family: 'inet', name: 'weft-vnf-firewall' } } },
        { add: { chain: { ...T, name: 'reject' } } },
        { add: { rule: { ...T, chain: 'reject', expr: [{ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } }, { reject: { type: 'tcp reset' } }] } } },
        { add: { rule: { ...T, chain: 'reject', expr: [{ reject: { type: 'icmpx', expr: 'admin-prohibited' } }] } } },
        { add: { chain: { ...T, name: 'log-audit' } } },
        {
          add: {
            rule: { ...T, chain: 'log-audit', expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: 'new' } }, { log: { prefix: 'edge/audit', group: 4713 } }] },
          },
        },
        // block 0: the log rule (icmp, any to any) and web (tcp) do not overlap; no-ssh (tcp/22, any) does not overlap web's ports either
        {
          add: {
            map: {
              ...MAP,
              name: 'b-0',
              elem: [
                [{ concat: [ANY, ANY, 1, { range: [0, 65535] }] }, { jump: { target: 'log-audit' } }],
                // the set's two adjacent addresses merged into one range: two boxes (one per port), not four
                [{ concat: [{ prefix: { addr: '10.1.0.0', len: 24 } }, { range: ['10.2.0.7', '10.2.0.8'] }, 6, 80] }, { accept: null }],
                [{ concat: [{ prefix: { addr: '10.1.0.0', len: 24 } }, { range: ['10.2.0.7', '10.2.0.8'] }, 6, 443] }, { accept: null }],
                [{ concat: [ANY, ANY, 6, 22] }, { jump: { target: 'reject' } }],
              ],
            },
          },
        },
        { add: { chain: { ...T, name: 'judge' } } },
        { add: { chain: { ...T, name: 'judge-r' } } },
        { add: { rule: { ...T, chain: 'judge', expr: [{ vmap: { key: key(false), data: '@b-0' } }] } } },
        { add: { rule: { ...T, chain: 'judge', comment: 'default', expr: [{ counter: null }, { drop: null }] } } },
        { add: { rule: { ...T, chain: 'judge-r', expr: [{ vmap: { key: key(true), data: '@b-0' } }] } } },
        { add: { rule: { ...T, chain: 'judge-r', comment: 'default', expr: [{ counter: null }, { drop: null }] } } },
        { add: { chain: { ...T, name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } } },
        {
          add: {
            rule: { ...T, chain: 'forward', comment: 'weft: invalid', expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: 'invalid' } }, { counter: null }, { drop: null }] },
          },
        },
        {
          add: {
            rule: {
              ...T,
              chain: 'forward',
              expr: [
                { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'related' } },
                { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: { set: ['icmp', 'ipv6-icmp'] } } },
                { accept: null },
              ],
            },
          },
        },
        { add: { rule: { ...T, chain: 'forward', expr: [{ match: { op: '==', left: { ct: { key: 'direction' } }, right: 'original' } }, { goto: { target: 'judge' } }] } } },
        { add: { rule: { ...T, chain: 'forward', expr: [{ match: { op: '==', left: { ct: { key: 'direction' } }, right: 'reply' } }, { goto: { target: 'judge-r' } }] } } },
      ],
    });
  });

  test('the default action: allow accepts, reject goes to the reject chain; a rule with log: true decides in its log chain', () => {
    const allow = renderFirewallTable(compileFirewallRules(firewallSpec([], { defaultAction: 'allow' })), 'edge').nftables;
    expect(allow).toContainEqual({ add: { rule: { family: 'inet', table: 'weft-vnf-firewall', chain: 'judge', comment: 'default', expr: [{ counter: null }, { accept: null }] } } });
    const reject = renderFirewallTable(compileFirewallRules(firewallSpec([], { defaultAction: 'reject' })), 'edge').nftables;
    expect(reject).toContainEqual({ add: { rule: { family: 'inet', table: 'weft-vnf-firewall', chain: 'judge-r', comment: 'default', expr: [{ counter: null }, { jump: { target: 'reject' } }] } } });
    const model = compileFirewallRules(firewallSpec([rule({ name: 'drop-db', action: 'deny', log: true, protocol: 'tcp', ports: [[5432, 5432]] })]));
    expect(model.maps[0]?.elements[0]?.verdict).toEqual({ kind: 'goto', target: 'log-drop-db' });
    expect(renderFirewallTable(model, 'edge').nftables).toContainEqual({ add: { rule: { family: 'inet', table: 'weft-vnf-firewall', chain: 'log-drop-db', expr: [{ drop: null }] } } });
  });

  test('first match wins across blocks: a rule overlapping an earlier one goes to the next block, looked up after it', () => {
    const model = compileFirewallRules(
      firewallSpec([
        rule({ name: 'deny-one', action: 'deny', from: [{ cidr: '10.1.0.5/32' }], protocol: 'tcp' }),
        rule({ name: 'allow-front', action: 'allow', from: [{ cidr: '10.1.0.0/24' }], to: [{ cidr: '10.2.0.0/24' }] }),
      ]),
    );
    expect(model.maps.map((m) => m.elements.map((e) => e.rule))).toEqual([['deny-one'], ['allow-front']]);
  });

  test('an unknown address set matches nobody: the rule has no elements (fail closed for allow)', () => {
    const model = compileFirewallRules(firewallSpec([rule({ name: 'ghost', action: 'allow', to: [{ set: 'peer:x:app=ghost' }] })]));
    expect(model.maps).toEqual([]);
    expect(model.rules).toEqual(['ghost']);
  });
});

describe('readFirewallCounters', () => {
  test('credits element counters (names and numbers as nft lists them) to their rules and both default rules to "default"', () => {
    const model = compileFirewallRules(firewallSpec([WEB, rule({ name: 'ping', action: 'allow', protocol: 'icmp' })], { addressSets: [{ name: 'peer:back:app=web', addresses: ['10.2.0.7'] }] }));
    const listing = [
      { table: { family: 'inet', name: 'weft-vnf-firewall' } },
      {
        map: {
          family: 'inet',
          table: 'weft-vnf-firewall',
          name: 'b-0',
          elem: [
            [{ elem: { val: { concat: [{ prefix: { addr: '10.1.0.0', len: 24 } }, '10.2.0.7', 'tcp', 'http'] }, counter: { packets: 5, bytes: 500 } } }, { accept: null }],
            [{ elem: { val: { concat: [{ prefix: { addr: '10.1.0.0', len: 24 } }, '10.2.0.7', 'tcp', 443] }, counter: { packets: 1, bytes: 60 } } }, { accept: null }],
            [{ elem: { val: { concat: [{ prefix: { addr: '0.0.0.0', len: 0 } }, { prefix: { addr: '0.0.0.0', len: 0 } }, 'icmp', { range: [0, 65535] }] }, counter: { packets: 2, bytes: 168 } } }, { accept: null }],
          ],
        },
      },
      { rule: { family: 'inet', table: 'weft-vnf-firewall', chain: 'judge', comment: 'default', expr: [{ counter: { packets: 3, bytes: 180 } }, { drop: null }] } },
      { rule: { family: 'inet', table: 'weft-vnf-firewall', chain: 'judge-r', comment: 'default', expr: [{ counter: { packets: 1, bytes: 40 } }, { drop: null }] } },
    ];
    // "http": nft prints well-known ports by name only with -S; a name it cannot read is skipped, not miscounted.
    expect(readFirewallCounters(listing, model)).toEqual([
      { rule: 'web', packets: 1, bytes: 60 },
      { rule: 'ping', packets: 2, bytes: 168 },
      { rule: 'default', packets: 4, bytes: 220 },
    ]);
  });

  test('every rule is reported, with zeros before any match; an empty listing is all zeros', () => {
    const model = compileFirewallRules(firewallSpec([WEB]));
    expect(readFirewallCounters([], model)).toEqual([
      { rule: 'web', packets: 0, bytes: 0 },
      { rule: 'default', packets: 0, bytes: 0 },
    ]);
  });
});

describe('renderPortTable', () => {
  test('golden: the bridge-family table that leaves frames from VNF ports, and from VXLAN devices to a VNF, untracked (before br_netfilter)', () => {
    const T = { family: 'bridge', table: 'weft-vnf-ports' };
    expect(renderPortTable()).toEqual({
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { add: { table: { family: 'bridge', name: 'weft-vnf-ports' } } },
        { delete: { table: { family: 'bridge', name: 'weft-vnf-ports' } } },
        { add: { table: { family: 'bridge', name: 'weft-vnf-ports' } } },
        { add: { chain: { ...T, name: 'prerouting', type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } } },
        { add: { rule: { ...T, chain: 'prerouting', expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'wf-*' } }, { notrack: null }] } } },
        {
          add: {
            rule: {
              ...T,
              chain: 'prerouting',
              expr: [
                { match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'wx-*' } },
                { match: { op: '==', left: { '&': [{ payload: { protocol: 'ether', field: 'daddr' } }, 'ff:ff:00:00:00:00'] }, right: '0a:77:00:00:00:00' } },
                { notrack: null },
              ],
            },
          },
        },
      ],
    });
  });
});

describe('firewallDriver', () => {
  test('renders the whole VNF: no routes, no processes, the table its counters are read from', () => {
    const want = firewallDriver.render(fw([WEB]), { runDir: '/unused' });
    expect(want).toMatchObject({ kind: 'Firewall', routes: [], processes: [], nft: { table: 'weft-vnf-firewall', family: 'inet' } });
    expect(firewallDriver.readCounters?.({}, want.model)).toEqual([
      { rule: 'web', packets: 0, bytes: 0 },
      { rule: 'default', packets: 0, bytes: 0 },
    ]);
  });
});
