// What `weft diff` compares: a resource's labels and its effective spec,
// the spec with the values the controller fills in when a document leaves
// them out (gateway, VNI, MTU). Both sides of a diff are rendered from the
// same store transaction, so an apply that changes nothing effective shows
// nothing, and a new network shows what it would be allocated.
import { FirewallPolicySpec } from '../../model/firewall.js';
import { FirewallSpec } from '../../model/firewall-vnf.js';
import { RouterSpec } from '../../model/router.js';
import { EndpointSpec, HostSpec, NetworkSpec, type AnyResource, type Kind, type Network } from '../../model/kinds.js';
import { intToIpv4 } from '../../model/ip.js';
import type { ResourceView } from '../../model/rest.js';
import { addressSpaceOf } from '../ipam/address-space.js';
import { DEFAULT_UNDERLAY_MTU, VXLAN_OVERHEAD, defaultGateway6, networkMtu } from '../planner/host-planner.js';
import type { StoreReader } from '../store/store.js';

/** Spec fields in the order the schema declares them, so both sides of a diff line up. */
const SPEC_ORDER: Record<Kind, string[]> = {
  Network: Object.keys(NetworkSpec.properties),
  Endpoint: Object.keys(EndpointSpec.properties),
  Host: Object.keys(HostSpec.properties),
  FirewallPolicy: Object.keys(FirewallPolicySpec.properties),
  Firewall: Object.keys(FirewallSpec.properties),
  Router: Object.keys(RouterSpec.properties),
};

function ordered(spec: Record<string, unknown>, kind: Kind): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SPEC_ORDER[kind]) if (spec[k] !== undefined) out[k] = spec[k];
  for (const k of Object.keys(spec).sort()) if (!(k in out) && spec[k] !== undefined) out[k] = spec[k];
  return out;
}

/**
 * The MTU a network without spec.mtu gets: the smallest any known host's
 * underlay allows, as the status view reports it (status.mtu).
 */
function defaultMtu(r: StoreReader, net: Network): number {
  const mtus = r.listResources('Host').map((h) => networkMtu(net, h.status?.underlayMtu));
  return mtus.length > 0 ? Math.min(...mtus) : DEFAULT_UNDERLAY_MTU - VXLAN_OVERHEAD;
}

function networkSpec(r: StoreReader, net: Network): { spec: Record<string, unknown>; defaulted: string[] } {
  const spec: Record<string, unknown> = { ...net.spec };
  const defaulted: string[] = [];
  const fill = (key: string, value: unknown) => {
    if (spec[key] !== undefined || value === undefined) return;
    spec[key] = value;
    defaulted.push(`/spec/${key}`);
  };
  fill('gateway', intToIpv4(addressSpaceOf(net).gateway));
  if (net.spec.subnet6 !== undefined) fill('gateway6', defaultGateway6(net.spec.subnet6));
  fill('vni', r.getVni(net.metadata.name));
  fill('mtu', defaultMtu(r, net));
  return { spec: ordered(spec, 'Network'), defaulted };
}

export function viewOf(r: StoreReader, resource: AnyResource): ResourceView {
  const metadata: ResourceView['metadata'] = { name: resource.metadata.name };
  if (resource.metadata.labels && Object.keys(resource.metadata.labels).length > 0) metadata.labels = resource.metadata.labels;
  if (resource.kind !== 'Network') return { metadata, spec: ordered({ ...resource.spec }, resource.kind) };
  const { spec, defaulted } = networkSpec(r, resource);
  const view: ResourceView = { metadata, spec };
  if (defaulted.length > 0) view.defaulted = defaulted;
  return view;
}
