// The Router driver: a planned router -> its namespace's desired state
// (pure), the NAT table it renders, its counters read back, and the host's
// uplink table.
import type { PlanRouterSpec } from '../../../../model/router.js';
import { VNF_EXTERNAL_ATTACHMENT, VNF_EXTERNAL_IFNAME, VNF_UPLINK_IFNAME, vnfAlias, vnfHostVethName, vnfIfname, vnfMac, vnfUplinkAlias, vnfUplinkHostName } from '../../../../model/vnf-names.js';
import type { PlanVnf } from '../../../../model/vnf-protocol.js';
import { readRouterCounters } from '../../../../vnf/router/read-counters.js';
import { renderRouterTable, ROUTER_VNF_TABLE } from '../../../../vnf/router/render-table.js';
import { renderRouterVnf, routerDriver } from '../../../../vnf/router/router-driver.js';
import { renderUplinkTable, renderUplinkTableRemoval } from '../../../../vnf/uplink-table.js';
import { VNF_DRIVERS } from '../../../../vnf/drivers.js';

const KEY = { kind: 'Router', name: 'edge' };
const UPLINK = { hostIp: '169.254.3.1', ip: '169.254.3.2', prefixLength: 30 };
const EXTERNAL = { interface: 'eth1', ip: '203.0.113.10', prefixLength: 24, gateway: '203.0.113.1', snat: true, floatingIPs: [{ address: '203.0.113.20', toIp: '10.2.0.7' }] };

function planned(spec: Partial<PlanRouterSpec> = {}): PlanVnf<PlanRouterSpec> {
  const iface = (network: string, ip: string) => ({ network, ip, prefixLength: 24, mac: vnfMac(KEY, network).toUpperCase(), mtu: 1450, hostIfname: vnfHostVethName(KEY, network), ifname: vnfIfname(network) });
  return {
    ...KEY,
    generation: 3,
    netns: 'wn.h1.router.edge',
    interfaces: [iface('blue', '10.1.0.254'), iface('red', '10.2.0.254')],
    spec: { subnets: ['10.1.0.0/24', '10.2.0.0/24'], routes: [], portForwards: [], ...spec },
  };
}

/** The rules of a rendered document, as `chain: statements` lines (a readable golden). */
function rules(doc: ReturnType<typeof renderRouterTable>): string[] {
  return (doc?.nftables ?? []).flatMap((c) => ('add' in c && 'rule' in c.add ? [`${c.add.rule.chain}: ${JSON.stringify(c.add.rule.expr)}${c.add.rule.comment ? ` # ${c.add.rule.comment}` : ''}`] : []));
}

/** The forward chain of a router that translates: invalid dropped, traffic counted each way, from the way out only replies and forwarded ports. */
function guardedForward(iif: string, oif: string): string[] {
  return [
    'forward: [{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":"invalid"}},{"counter":null},{"drop":null}]',
    `forward: [${iif},{"counter":null}] # traffic in`,
    `forward: [${oif},{"counter":null}] # traffic out`,
    `forward: [${iif},{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}]`,
    `forward: [${iif},{"match":{"op":"in","left":{"ct":{"key":"status"}},"right":"dnat"}},{"accept":null}]`,
    `forward: [${iif},{"counter":null},{"drop":null}]`,
  ];
}

describe('Router driver', () => {
  test('is registered for kind Router', () => {
    expect(VNF_DRIVERS.map((d) => d.kind)).toContain('Router');
  });

  test('without external: forwarding, one interface per network, its static routes, no table and no uplink', () => {
    const want = renderRouterVnf(planned({ routes: [{ to: '192.0.2.0/24', via: '10.2.0.250' }] }));
    expect(want).toMatchObject({ kind: 'Router', name: 'edge', generation: 3, netns: 'wn.h1.router.edge', sysctls: { 'net.ipv4.ip_forward': '1' }, processes: [] });
    expect(want.interfaces.map((i) => [i.ifname, i.ip, i.mac, i.alias])).toEqual([
      ['n-blue', '10.1.0.254', vnfMac(KEY, 'blue'), vnfAlias(KEY, 'blue')],
      ['n-red', '10.2.0.254', vnfMac(KEY, 'red'), vnfAlias(KEY, 'red')],
    ]);
    expect(want.routes).toEqual([{ dst: '192.0.2.0/24', via: '10.2.0.250' }]);
    expect(want.nft).toBeUndefined();
    expect(want.uplink).toBeUndefined();
  });

  test('with an uplink: the veth to the host, a default route through it, the NAT table, the ports the host publishes', () => {
    const want = renderRouterVnf(planned({ uplink: UPLINK, portForwards: [{ protocol: 'tcp', port: 8080, toIp: '10.2.0.7', toPort: 80 }] }));
    expect(want.uplink).toEqual({ hostIfname: vnfUplinkHostName(KEY), ifname: VNF_UPLINK_IFNAME, alias: vnfUplinkAlias(KEY), ...UPLINK, publish: [{ protocol: 'tcp', port: 8080 }] });
    expect(vnfUplinkHostName(KEY)).toMatch(/^wu-[0-9a-f]{8}$/);
    expect(want.routes).toEqual([{ dst: 'default', via: '169.254.3.1' }]);
    expect(want.nft).toMatchObject({ table: ROUTER_VNF_TABLE, family: 'ip' });
  });

  test('routes of a firewall chain come first, then its static routes, then the way out', () => {
    const want = renderRouterVnf({ ...planned({ uplink: UPLINK, routes: [{ to: '192.0.2.0/24', via: '10.2.0.250' }] }), transitRoutes: [{ dst: '10.3.0.0/24', via: '10.1.0.250' }] });
    expect(want.routes).toEqual([
      { dst: '10.3.0.0/24', via: '10.1.0.250' },
      { dst: '192.0.2.0/24', via: '10.2.0.250' },
      { dst: 'default', via: '169.254.3.1' },
    ]);
  });

  test('the NAT table: masquerade of the connected subnets out of the uplink, port forwards in, nothing else in from outside', () => {
    const doc = renderRouterTable(planned({ uplink: UPLINK, portForwards: [{ protocol: 'udp', port: 53, toIp: '10.2.0.8', toPort: 5353 }] }).spec);
    expect(doc?.nftables.slice(1, 4)).toEqual([
      { add: { table: { family: 'ip', name: ROUTER_VNF_TABLE } } },
      { delete: { table: { family: 'ip', name: ROUTER_VNF_TABLE } } },
      { add: { table: { family: 'ip', name: ROUTER_VNF_TABLE } } },
    ]);
    const iif = '{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"uplink"}}';
    const oif = '{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"uplink"}}';
    expect(rules(doc)).toEqual([
      `prerouting: [${iif},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":53}},{"counter":null},{"mangle":{"key":{"ct":{"key":"mark"}},"value":2003173377}},{"dnat":{"addr":"10.2.0.8","port":5353}}] # forward udp/53`,
      'postrouting: [{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"uplink"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"set":[{"prefix":{"addr":"10.1.0.0","len":24}},{"prefix":{"addr":"10.2.0.0","len":24}}]}}},{"counter":null},{"masquerade":null}] # snat',
      ...guardedForward(iif, oif),
    ]);
    expect(renderRouterTable(planned().spec)).toBeUndefined();
  });

  test('with an external interface: a macvlan on the host interface with its address and the floating IPs, a default route via the gateway, the NAT table, nothing for the host', () => {
    const want = renderRouterVnf(planned({ external: EXTERNAL }));
    expect(want.external).toEqual({
      parent: 'eth1',
      ifname: VNF_EXTERNAL_IFNAME,
      alias: vnfAlias(KEY, VNF_EXTERNAL_ATTACHMENT),
      mac: vnfMac(KEY, VNF_EXTERNAL_ATTACHMENT),
      ip: '203.0.113.10',
      prefixLength: 24,
      extraIps: ['203.0.113.20'],
    });
    expect(want.routes).toEqual([{ dst: 'default', via: '203.0.113.1' }]);
    expect(want.sysctls).toEqual({
      'net.ipv4.ip_forward': '1',
      'net.ipv4.conf.all.arp_ignore': '1',
      'net.ipv4.conf.all.arp_announce': '2',
      'net.ipv6.conf.all.disable_ipv6': '1',
      'net.ipv6.conf.default.disable_ipv6': '1',
    });
    expect(want.uplink).toBeUndefined();
    expect(want.nft).toMatchObject({ table: ROUTER_VNF_TABLE, family: 'ip' });
  });

  test('the NAT table of mode interface: ports on the router\'s own address, floating IPs 1:1 before the general snat to that address', () => {
    const doc = renderRouterTable(planned({ external: EXTERNAL, portForwards: [{ protocol: 'tcp', port: 8080, toIp: '10.2.0.7', toPort: 80 }] }).spec);
    const iif = '{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"external"}}';
    const oif = '{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"external"}}';
    expect(rules(doc)).toEqual([
      `prerouting: [${iif},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"203.0.113.10"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080}},{"counter":null},{"mangle":{"key":{"ct":{"key":"mark"}},"value":2003173377}},{"dnat":{"addr":"10.2.0.7","port":80}}] # forward tcp/8080`,
      `prerouting: [${iif},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"203.0.113.20"}},{"counter":null},{"dnat":{"addr":"10.2.0.7"}}] # floating 203.0.113.20`,
      `postrouting: [${oif},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"10.2.0.7"}},{"counter":null},{"snat":{"addr":"203.0.113.20"}}] # floating 203.0.113.20`,
      `postrouting: [${oif},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"set":[{"prefix":{"addr":"10.1.0.0","len":24}},{"prefix":{"addr":"10.2.0.0","len":24}}]}}},{"counter":null},{"snat":{"addr":"203.0.113.10"}}] # snat`,
      ...guardedForward(iif, oif),
    ]);
  });

  test('snat false: no general snat and no filter of what comes in (the outside routes the subnets); floating IPs stay 1:1', () => {
    const doc = renderRouterTable(planned({ external: { ...EXTERNAL, snat: false } }).spec);
    expect(rules(doc).map((r) => r.replace(/: .* #/, ' #'))).toEqual([
      'prerouting # floating 203.0.113.20',
      'postrouting # floating 203.0.113.20',
      'forward: [{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":"invalid"}},{"counter":null},{"drop":null}]',
      'forward # traffic in',
      'forward # traffic out',
    ]);
    expect(readRouterCounters([], planned({ external: { ...EXTERNAL, snat: false } }).spec)).toEqual([
      { rule: 'floating 203.0.113.20', connections: 0 },
      { rule: 'traffic in', packets: 0, bytes: 0 },
      { rule: 'traffic out', packets: 0, bytes: 0 },
    ]);
  });

  test('counters: connections per NAT rule and traffic each way from the listing, 0 for a rule not listed', () => {
    const spec = planned({ uplink: UPLINK, portForwards: [{ protocol: 'tcp', port: 8080, toIp: '10.2.0.7', toPort: 80 }] }).spec;
    const listing = [
      { table: { family: 'ip', name: ROUTER_VNF_TABLE } },
      { rule: { chain: 'postrouting', comment: 'snat', expr: [{ match: {} }, { counter: { packets: 7, bytes: 420 } }, { masquerade: null }] } },
      { rule: { chain: 'forward', expr: [{ counter: { packets: 99, bytes: 1 } }, { drop: null }] } },
      { rule: { chain: 'forward', comment: 'traffic out', expr: [{ match: {} }, { counter: { packets: 12, bytes: 9000 } }] } },
    ];
    expect(routerDriver.readCounters?.({ nft: listing }, spec)).toEqual([
      { rule: 'snat', connections: 7 },
      { rule: 'forward tcp/8080', connections: 0 },
      { rule: 'traffic in', packets: 0, bytes: 0 },
      { rule: 'traffic out', packets: 12, bytes: 9000 },
    ]);
    expect(readRouterCounters(listing, planned().spec)).toEqual([]);
  });
});

describe('the host uplink table', () => {
  test('forwarding guard, published ports to each uplink (outside, the host itself, and hairpin from an uplink), masquerade of the uplink addresses and of hairpinned connections', () => {
    const doc = renderUplinkTable([
      { ip: '169.254.3.2', publish: [{ protocol: 'tcp', port: 8080 }] },
      { ip: '169.254.9.2', publish: [] },
    ]);
    const lines = doc.nftables.flatMap((c) => ('add' in c && 'rule' in c.add ? [`${c.add.rule.chain} ${JSON.stringify(c.add.rule.expr)}`] : []));
    expect(lines.filter((l) => l.startsWith('forward'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('forward ')).every((l) => l.includes('"wb-*"'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('prerouting'))).toEqual([
      'prerouting [{"match":{"op":"!=","left":{"meta":{"key":"iifname"}},"right":"wb-*"}},{"match":{"op":"==","left":{"fib":{"result":"type","flags":["daddr"]}},"right":"local"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080}},{"dnat":{"addr":"169.254.3.2"}}]',
    ]);
    expect(lines.filter((l) => l.startsWith('output'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('postrouting'))).toEqual([
      'postrouting [{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"set":["169.254.3.2","169.254.9.2"]}}},{"match":{"op":"!=","left":{"meta":{"key":"oifname"}},"right":"wu-*"}},{"masquerade":null}]',
      'postrouting [{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"wu-*"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"wu-*"}},{"match":{"op":"in","left":{"ct":{"key":"status"}},"right":"dnat"}},{"masquerade":null}]',
    ]);
    expect(renderUplinkTableRemoval().nftables.slice(1)).toEqual([{ add: { table: { family: 'ip', name: 'weft-vnf-uplinks' } } }, { delete: { table: { family: 'ip', name: 'weft-vnf-uplinks' } } }]);
  });
});
