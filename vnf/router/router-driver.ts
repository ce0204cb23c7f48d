// The Router VNF driver: a planned router -> everything its namespace must
// have, as data (agents/vnf/vnf-host.ts applies it).
//
//   namespace /run/netns/<netns>, IPv4 forwarding on inside it only
//   per connected network: a veth on the network's bridge, as every VNF
//   with external (mode host): the uplink veth to the host namespace, a
//     default route through the host's end of it, and the NAT table
//     (render-table.ts); the host publishes the port forwards' ports
//   with external (mode interface): a macvlan on the host interface (its
//     own address, the floating IPs as extra /32 addresses, so it answers
//     ARP for them), a default route via the segment's gateway, and the NAT
//     table; ARP answered only for addresses of the asking interface and
//     sent from them (arp_ignore 1, arp_announce 2), so the segment never
//     learns the connected networks' addresses of the router
//   routes: the static routes (their next hops are on connected networks),
//     after those of a firewall chain (controller/planner/vnf-chains.ts)
//   processes: none: the kernel routes and translates
import { VNF_EXTERNAL_ATTACHMENT, VNF_EXTERNAL_IFNAME, VNF_UPLINK_IFNAME, vnfAlias, vnfMac, vnfUplinkAlias, vnfUplinkHostName } from '../../model/vnf-names.js';
import type { PlanRouterSpec } from '../../model/router.js';
import type { PlanVnf } from '../../model/vnf-protocol.js';
import { baseVnfWant, type VnfDriver, type VnfWant } from '../vnf-driver.js';
import { readRouterConnections } from './read-connections.js';
import { readRouterCounters } from './read-counters.js';
import { ROUTER_FAMILY, ROUTER_FORWARD_CT_MARK, ROUTER_VNF_TABLE, renderRouterTable } from './render-table.js';

export function renderRouterVnf(r: PlanVnf<PlanRouterSpec>): VnfWant<PlanRouterSpec> {
  const want = baseVnfWant(r, r.spec);
  want.routes.push(...r.spec.routes.map((x) => ({ dst: x.to, via: x.via })));
  const uplink = r.spec.uplink;
  const document = renderRouterTable(r.spec);
  if (uplink && document) {
    want.routes.push({ dst: 'default', via: uplink.hostIp });
    want.uplink = {
      hostIfname: vnfUplinkHostName(r),
      ifname: VNF_UPLINK_IFNAME,
      alias: vnfUplinkAlias(r),
      hostIp: uplink.hostIp,
      ip: uplink.ip,
      prefixLength: uplink.prefixLength,
      publish: r.spec.portForwards.map((f) => ({ protocol: f.protocol, port: f.port })),
    };
  }
  const external = r.spec.external;
  if (external) {
    // 'all': the interface is made after the sysctls are set; the kernel uses the larger of all and the interface's own.
    want.sysctls['net.ipv4.conf.all.arp_ignore'] = '1';
    want.sysctls['net.ipv4.conf.all.arp_announce'] = '2';
    // Routers do no IPv6 yet: on a segment weft does not guard, an RA would give the namespace a SLAAC address and route.
    want.sysctls['net.ipv6.conf.all.disable_ipv6'] = '1';
    want.sysctls['net.ipv6.conf.default.disable_ipv6'] = '1';
    want.routes.push({ dst: 'default', via: external.gateway });
    want.external = {
      parent: external.interface,
      ifname: VNF_EXTERNAL_IFNAME,
      alias: vnfAlias(r, VNF_EXTERNAL_ATTACHMENT),
      mac: vnfMac(r, VNF_EXTERNAL_ATTACHMENT),
      ip: external.ip,
      prefixLength: external.prefixLength,
      extraIps: external.floatingIPs.map((f) => f.address),
    };
  }
  if (document) {
    want.nft = { table: ROUTER_VNF_TABLE, family: ROUTER_FAMILY, document };
    // the port forwards' live connections, for describe: their rules mark them
    if (r.spec.portForwards.length > 0) want.observeConntrack = { mark: ROUTER_FORWARD_CT_MARK, mask: 0xffff_ffff };
  }
  return want;
}

export const routerDriver: VnfDriver<PlanRouterSpec, PlanRouterSpec> = {
  kind: 'Router',
  render: (vnf) => renderRouterVnf(vnf),
  readCounters: (observed, model) => readRouterCounters(observed.nft ?? [], model),
  readConnections: (tracked, model) => readRouterConnections(tracked, model),
};
