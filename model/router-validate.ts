// Semantic checks of a Router spec that its JSON Schema cannot say, and the
// refusals of what this build does not do (each names the field and says
// what works instead: a field accepted and silently ignored would leave a
// user believing in a NAT or an address that does not exist).
// Whether the host, the networks and the endpoints exist, whether the
// connected subnets overlap and whether a `via` is on a connected network
// need the store: controller/resources/router-checks.ts.
import type { FieldIssue } from './errors.js';
import { weftLinkNameRole } from './host-objects.js';
import { formatPrefix4, ipv4ToInt, isIPv4, isIPv6, maskOf, parsePrefix4, prefixContains, prefixLast, type Prefix4 } from './ip.js';
import { INTERFACE_MODE_FIELDS, parseAddressWithLength } from './router.js';
import { checkVnfAttachments } from './vnf-validate.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const quote = (v: unknown) => JSON.stringify(v);

/** The external segment of a router in mode interface, when address is usable: its prefix, and the router's own address on it. */
interface Segment {
  prefix: Prefix4;
  ip: number;
  gateway?: number;
}

const segmentText = (s: Segment) => formatPrefix4(s.prefix);

/** Is `ip` a usable host address of `p` (not its network or broadcast address)? */
const isHostOf = (p: Prefix4, ip: number) => prefixContains(p, ip) && (p.length >= 31 || (ip !== p.base && ip !== prefixLast(p)));

function checkInterfaceMode(external: Record<string, unknown>, path: string, issues: FieldIssue[]): Segment | undefined {
  const missing = INTERFACE_MODE_FIELDS.filter((f) => external[f] === undefined);
  if (missing.length > 0) {
    issues.push({
      path,
      message: `mode interface needs ${missing.map((f) => `external.${f}`).join(', ')}: the host interface whose segment the router joins, its address there with the prefix length, and the segment's gateway (e.g. {mode: interface, interface: eth1, address: 203.0.113.10/24, gateway: 203.0.113.1})`,
    });
  }
  const role = typeof external.interface === 'string' ? weftLinkNameRole(external.interface) : undefined;
  if (role !== undefined) {
    issues.push({ path: `${path}/interface`, message: `"${String(external.interface)}" is named like weft's own links (a ${role}): the router's way out sits on a host interface outside weft, e.g. eth1; to connect a weft network, add it to interfaces`, value: external.interface });
  }
  let segment: Segment | undefined;
  if (typeof external.address === 'string') {
    const a = parseAddressWithLength(external.address);
    if (a === undefined) {
      issues.push({ path: `${path}/address`, message: `${quote(external.address)} is not an IPv4 address with a prefix length; write the router's address on the segment and the segment's length, e.g. 203.0.113.10/24`, value: external.address });
    } else if (a.prefixLength === 0 || a.prefixLength > 30) {
      issues.push({ path: `${path}/address`, message: `/${a.prefixLength} leaves no room for the router, its gateway and floating IPs on one segment; give the segment's real prefix length (/1 to /30), e.g. 203.0.113.10/24`, value: external.address });
    } else {
      const ip = ipv4ToInt(a.ip);
      const prefix = { base: (ip & maskOf(a.prefixLength)) >>> 0, length: a.prefixLength };
      if (!isHostOf(prefix, ip)) {
        issues.push({ path: `${path}/address`, message: `${a.ip} is the ${ip === prefix.base ? 'network' : 'broadcast'} address of ${formatPrefix4(prefix)}, not a host's; give the router an address inside it`, value: external.address });
      } else {
        segment = { prefix, ip };
      }
    }
  }
  if (typeof external.gateway === 'string') {
    if (!isIPv4(external.gateway)) {
      issues.push({ path: `${path}/gateway`, message: `${quote(external.gateway)} is not an IPv4 address; give the segment's gateway, e.g. 203.0.113.1`, value: external.gateway });
    } else if (segment !== undefined) {
      const gw = ipv4ToInt(external.gateway);
      if (!isHostOf(segment.prefix, gw)) {
        issues.push({ path: `${path}/gateway`, message: `gateway ${external.gateway} is not a host address of the external subnet ${segmentText(segment)} (from external.address): the router reaches its gateway directly on the segment; give an address inside it, or correct the prefix length of external.address`, value: external.gateway });
      } else if (gw === segment.ip) {
        issues.push({ path: `${path}/gateway`, message: `gateway ${external.gateway} is the router's own address (external.address); give the address of the segment's router`, value: external.gateway });
      } else {
        segment.gateway = gw;
      }
    }
  }
  return segment;
}

function checkExternal(external: unknown, base: string, issues: FieldIssue[]): Segment | undefined {
  if (!isObject(external)) return undefined;
  const path = `${base}/external`;
  const mode = typeof external.mode === 'string' ? external.mode : 'host';
  if (mode === 'interface') return checkInterfaceMode(external, path, issues);
  if (mode !== 'host') return undefined; // the schema names the modes
  for (const field of INTERFACE_MODE_FIELDS) {
    if (external[field] === undefined) continue;
    issues.push({
      path: `${path}/${field}`,
      message: `external.${field} belongs to mode: interface; remove it, or set mode: interface (mode host goes out through the host's own interfaces and addresses)`,
      value: external[field],
    });
  }
  if (external.snat === false) {
    issues.push({
      path: `${path}/snat`,
      message: "snat: false is not supported in mode host: the host has no route back to the connected networks, so traffic must leave with the host's address; remove snat (or set it to true), or use mode: interface",
      value: false,
    });
  }
  return undefined;
}

function checkFloatingIps(spec: Record<string, unknown>, segment: Segment | undefined, base: string, issues: FieldIssue[]): void {
  const fips = spec.floatingIPs;
  if (!Array.isArray(fips) || fips.length === 0) return;
  const external = isObject(spec.external) ? spec.external : undefined;
  const mode = external === undefined ? undefined : typeof external.mode === 'string' ? external.mode : 'host';
  if (mode !== 'interface') {
    issues.push({
      path: `${base}/floatingIPs`,
      message: `floating IPs are extra addresses on the router's own external segment, which only external mode: interface has (this router has ${mode === undefined ? 'no external' : `mode ${mode}`}); set external: {mode: interface, interface, address, gateway}, or reach the endpoint from outside with portForwards`,
    });
    return;
  }
  const seen = new Map<string, number>();
  const byEndpoint = new Map<string, number>();
  fips.forEach((f: unknown, i: number) => {
    if (!isObject(f)) return;
    const path = `${base}/floatingIPs/${i}`;
    if (typeof f.endpoint === 'string') {
      const first = byEndpoint.get(f.endpoint);
      if (first !== undefined) {
        issues.push({ path: `${path}/endpoint`, message: `endpoint "${f.endpoint}" already has a floating IP (${base}/floatingIPs/${first}): its outbound traffic can leave with one address only; keep one`, value: f.endpoint });
      } else {
        byEndpoint.set(f.endpoint, i);
      }
    }
    if (typeof f.address !== 'string') return;
    if (!isIPv4(f.address)) {
      const why = isIPv6(f.address) ? 'IPv6 floating IPs are not supported yet' : f.address.includes('/') ? 'write the address without a prefix length' : 'not an IPv4 address';
      issues.push({ path: `${path}/address`, message: `${quote(f.address)}: ${why}; give an IPv4 address of the external subnet`, value: f.address });
      return;
    }
    const first = seen.get(f.address);
    if (first !== undefined) {
      issues.push({ path: `${path}/address`, message: `floating IP ${f.address} is used twice (also ${base}/floatingIPs/${first}); an address maps to one endpoint: pick another`, value: f.address });
      return;
    }
    seen.set(f.address, i);
    if (segment === undefined) return; // external.address is missing or bad: reported there
    const ip = ipv4ToInt(f.address);
    if (!prefixContains(segment.prefix, ip)) {
      issues.push({ path: `${path}/address`, message: `floating IP ${f.address} is outside the external subnet ${segmentText(segment)} (from external.address): the router can only answer for addresses of its own segment; give an address inside it`, value: f.address });
    } else if (!isHostOf(segment.prefix, ip)) {
      issues.push({ path: `${path}/address`, message: `floating IP ${f.address} is the ${ip === segment.prefix.base ? 'network' : 'broadcast'} address of the external subnet ${segmentText(segment)}, not a host's; give a host address inside it`, value: f.address });
    } else if (ip === segment.ip) {
      issues.push({ path: `${path}/address`, message: `floating IP ${f.address} is the router's own address (external.address); give it an extra address of the segment`, value: f.address });
    } else if (ip === segment.gateway) {
      issues.push({ path: `${path}/address`, message: `floating IP ${f.address} is the segment's gateway (external.gateway); give it an address no one else has`, value: f.address });
    }
  });
}

function checkRoutes(routes: unknown, base: string, issues: FieldIssue[]): void {
  if (!Array.isArray(routes)) return;
  const seen = new Map<string, number>();
  routes.forEach((r: unknown, i: number) => {
    if (!isObject(r)) return;
    const path = `${base}/routes/${i}`;
    if (typeof r.to === 'string') {
      const p = parsePrefix4(r.to);
      if ('problem' in p) {
        const why = p.problem === 'family' || r.to.includes(':') ? 'IPv6 routes are not supported yet' : p.hint;
        issues.push({ path: `${path}/to`, message: `${quote(r.to)} is not a usable IPv4 destination: ${why}`, value: r.to });
      } else if (p.prefix.length === 0) {
        issues.push({ path: `${path}/to`, message: 'a default route is not a static route here: give the router external (its way out) instead, or a narrower destination', value: r.to });
      } else {
        const first = seen.get(r.to);
        if (first !== undefined) issues.push({ path: `${path}/to`, message: `destination ${r.to} is routed twice (also ${base}/routes/${first}); keep one`, value: r.to });
        else seen.set(r.to, i);
      }
    }
    if (typeof r.via === 'string' && !isIPv4(r.via)) {
      const why = isIPv6(r.via) ? 'IPv6 next hops are not supported yet' : 'not an IPv4 address';
      issues.push({ path: `${path}/via`, message: `${quote(r.via)}: ${why}; give an IPv4 address on one of the connected networks`, value: r.via });
    }
  });
}

function checkPortForwards(forwards: unknown, hasExternal: boolean, base: string, issues: FieldIssue[]): void {
  if (!Array.isArray(forwards) || forwards.length === 0) return;
  if (!hasExternal) {
    issues.push({ path: `${base}/portForwards`, message: 'port forwards publish ports on the external address, and this router has no external: add external: {mode: host}, or remove portForwards' });
  }
  const seen = new Map<string, number>();
  forwards.forEach((f: unknown, i: number) => {
    if (!isObject(f) || typeof f.protocol !== 'string' || typeof f.port !== 'number') return;
    const key = `${f.protocol}/${f.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ path: `${base}/portForwards/${i}/port`, message: `${key} is published twice (also ${base}/portForwards/${first}); a port leads to one endpoint: pick another port`, value: f.port });
    } else {
      seen.set(key, i);
    }
  });
}

/** Semantic checks on a Router spec; `base` is the pointer of the spec in its document. */
export function checkRouterSpec(spec: unknown, base = '/spec'): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!isObject(spec)) return issues;
  checkVnfAttachments(spec.interfaces, `${base}/interfaces`, 'router', issues);
  const segment = checkExternal(spec.external, base, issues);
  checkRoutes(spec.routes, base, issues);
  checkPortForwards(spec.portForwards, isObject(spec.external), base, issues);
  checkFloatingIps(spec, segment, base, issues);
  return issues;
}
