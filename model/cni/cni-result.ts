// CNI results per spec version (SPEC.md section 5): ADD's result, what CHECK
// expects from prevResult, and VERSION's answer. Results are kept in the 1.x
// shape and rendered per version at the edge: 0.4.0 gives every ips entry a
// "version"; only 1.1.0 carries the interface and route fields it added.
import { isIPv4 } from '../ip.js';
import {
  CNI_VERSIONS, LATEST_CNI_VERSION, isPlausibleCniVersion,
  type CniAttachment, type CniDns, type CniErrorResult, type CniInterface, type CniIpConfig, type CniRequest, type CniResult, type CniRoute,
  type CniVersionResult,
} from './cni-types.js';

/** a >= b for "x.y.z" versions. */
function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

function renderInterface(i: CniInterface, v11: boolean): CniInterface {
  const out: CniInterface = { name: i.name };
  if (i.mac !== undefined) out.mac = i.mac;
  if (v11 && i.mtu !== undefined) out.mtu = i.mtu;
  if (i.sandbox !== undefined) out.sandbox = i.sandbox;
  if (v11 && i.socketPath !== undefined) out.socketPath = i.socketPath;
  if (v11 && i.pciID !== undefined) out.pciID = i.pciID;
  return out;
}

function renderIp(ip: CniIpConfig, v04: boolean): CniIpConfig {
  const out: CniIpConfig = v04 ? { version: isIPv4(ip.address.split('/')[0] ?? '') ? '4' : '6', address: ip.address } : { address: ip.address };
  if (ip.gateway !== undefined) out.gateway = ip.gateway;
  if (ip.interface !== undefined) out.interface = ip.interface;
  return out;
}

function renderRoute(r: CniRoute, v11: boolean): CniRoute {
  const out: CniRoute = { dst: r.dst };
  if (r.gw !== undefined) out.gw = r.gw;
  if (v11) {
    for (const key of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (r[key] !== undefined) out[key] = r[key];
  }
  return out;
}

function renderDns(d: CniDns): CniDns {
  const out: CniDns = {};
  if (d.nameservers !== undefined) out.nameservers = [...d.nameservers];
  if (d.domain !== undefined) out.domain = d.domain;
  if (d.search !== undefined) out.search = [...d.search];
  if (d.options !== undefined) out.options = [...d.options];
  return out;
}

/**
 * A result in the 1.x shape, as `cniVersion` writes it: 0.4.0 adds
 * ips[].version and drops the 1.1.0 fields, 1.0.0 drops the 1.1.0 fields
 * (interface mtu/socketPath/pciID, route mtu/advmss/priority/table/scope).
 * Absent parts stay absent; nothing is undefined.
 */
export function renderVersionedResult(cniVersion: string, r: CniResult): CniResult {
  const v04 = !versionAtLeast(cniVersion, '1.0.0');
  const v11 = versionAtLeast(cniVersion, '1.1.0');
  const out: CniResult = { cniVersion };
  if (r.interfaces !== undefined) out.interfaces = r.interfaces.map((i) => renderInterface(i, v11));
  if (r.ips !== undefined) out.ips = r.ips.map((ip) => renderIp(ip, v04));
  if (r.routes !== undefined) out.routes = r.routes.map((rt) => renderRoute(rt, v11));
  if (r.dns !== undefined) out.dns = renderDns(r.dns);
  return out;
}

/**
 * ADD's result: bridge, host veth and container interface (in that order,
 * as the reference bridge plugin lists them), the address (IPv4, then IPv6
 * on a dual-stack network) on interface 2 and the routes. Chained after another plugin, weft's part is appended to
 * prevResult with its interface indexes shifted; prevResult's dns stays
 * unless the configuration gives one. Without any dns the result carries {}.
 */
export function renderAddResult(req: CniRequest, a: CniAttachment): CniResult {
  const prev = req.prevResult;
  const base = prev?.interfaces?.length ?? 0;
  const mine: CniInterface[] = [
    { name: a.bridge.name, mac: a.bridge.mac, mtu: a.mtu },
    { name: a.hostIfname, mac: a.hostMac, mtu: a.mtu },
    { name: a.ifname, mac: a.mac, mtu: a.mtu, sandbox: a.netns },
  ];
  const dual = a.address6 !== undefined && a.gateway6 !== undefined;
  const routes = a.routes ?? [{ dst: '0.0.0.0/0', gw: a.gateway }, ...(dual ? [{ dst: '::/0', gw: a.gateway6 }] : [])];
  const ips: CniIpConfig[] = [{ address: a.address, gateway: a.gateway, interface: base + 2 }];
  if (a.address6 !== undefined && a.gateway6 !== undefined) ips.push({ address: a.address6, gateway: a.gateway6, interface: base + 2 });
  const result: CniResult = {
    cniVersion: req.cniVersion,
    interfaces: [...(prev?.interfaces ?? []), ...mine],
    ips: [...(prev?.ips ?? []), ...ips],
    routes: [...(prev?.routes ?? []), ...routes],
    dns: req.dns ?? prev?.dns ?? {},
  };
  return renderVersionedResult(req.cniVersion, result);
}

export interface ExpectedAttachment {
  mac?: string;
  /** addresses with prefix length, e.g. 10.1.0.5/24 */
  addresses: string[];
  routes: CniRoute[];
}

/**
 * What CHECK compares against (spec: "consult prevResult"): the interface
 * named CNI_IFNAME in sandbox CNI_NETNS, the addresses on it and all routes.
 * Undefined when prevResult lacks that interface.
 */
export function expectedAttachment(req: CniRequest): ExpectedAttachment | undefined {
  const interfaces = req.prevResult?.interfaces ?? [];
  let index = -1;
  // The last match: a chain lists earlier plugins' interfaces first.
  interfaces.forEach((i, n) => {
    if (i.name === req.ifname && i.sandbox === req.netns) index = n;
  });
  const iface = interfaces[index];
  if (!iface) return undefined;
  const out: ExpectedAttachment = {
    addresses: (req.prevResult?.ips ?? []).filter((ip) => ip.interface === index).map((ip) => ip.address),
    routes: (req.prevResult?.routes ?? []).map((r) => ({ ...r })),
  };
  if (iface.mac !== undefined) out.mac = iface.mac;
  return out;
}

/** VERSION's answer: the input's cniVersion echoed when it looks like a version, else the latest. */
export function versionResult(inputVersion?: string): CniVersionResult {
  return { cniVersion: isPlausibleCniVersion(inputVersion) ? inputVersion : LATEST_CNI_VERSION, supportedVersions: [...CNI_VERSIONS] };
}

/** The JSON text a plugin prints; fields that are undefined are left out. */
export function cniResultJson(result: CniResult | CniErrorResult | CniVersionResult): string {
  return JSON.stringify(result);
}
