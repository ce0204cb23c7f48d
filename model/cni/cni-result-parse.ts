// A CNI result read back (a prevResult or a cached ADD result): checked and
// normalised to the 1.x shape. Wrong JSON types are code 6, wrong values 7.
import { isIPv4, isIPv6 } from '../ip.js';
import { truncatedJson } from './cni-error.js';
import { parseDns } from './cni-dns.js';
import { at, Problems, type Json } from './cni-problems.js';
import { CNI_CODE, type CniInterface, type CniIpConfig, type CniResult, type CniRoute, type CniVersion } from './cni-types.js';

/** "a.b.c.d/n" or an IPv6 "x::y/n": an address (host bits allowed) with its prefix length. */
function parseCidr(text: string): { family: 4 | 6; ip: string; prefixLength: number } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const ip = m[1] as string;
  const prefixLength = Number(m[2]);
  if (isIPv4(ip) && prefixLength <= 32) return { family: 4, ip, prefixLength };
  if (isIPv6(ip) && prefixLength <= 128) return { family: 6, ip, prefixLength };
  return undefined;
}

const isIp = (s: string) => isIPv4(s) || isIPv6(s);

function optionalString(o: Json, key: string, where: string, p: Problems): string | undefined {
  return o[key] === undefined ? undefined : p.string(o[key], at(where, key), CNI_CODE.DecodeFailure);
}

function optionalUint(o: Json, key: string, where: string, p: Problems): number | undefined {
  return o[key] === undefined ? undefined : p.uint(o[key], at(where, key), CNI_CODE.DecodeFailure);
}

function requiredString(o: Json, key: string, where: string, p: Problems): string | undefined {
  if (o[key] === undefined) return p.add(CNI_CODE.DecodeFailure, at(where, key), 'is missing');
  return p.string(o[key], at(where, key), CNI_CODE.DecodeFailure);
}

function parseResultInterface(v: unknown, where: string, p: Problems): CniInterface | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const name = requiredString(o, 'name', where, p);
  if (name === undefined) return undefined;
  const out: CniInterface = { name };
  const mac = optionalString(o, 'mac', where, p);
  const mtu = optionalUint(o, 'mtu', where, p);
  const sandbox = optionalString(o, 'sandbox', where, p);
  const socketPath = optionalString(o, 'socketPath', where, p);
  const pciID = optionalString(o, 'pciID', where, p);
  if (mac !== undefined) out.mac = mac;
  if (mtu !== undefined) out.mtu = mtu;
  if (sandbox !== undefined) out.sandbox = sandbox;
  if (socketPath !== undefined) out.socketPath = socketPath;
  if (pciID !== undefined) out.pciID = pciID;
  return out;
}

function parseResultIp(v: unknown, where: string, interfaces: number, p: Problems): CniIpConfig | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const address = requiredString(o, 'address', where, p);
  const gateway = optionalString(o, 'gateway', where, p);
  const index = optionalUint(o, 'interface', where, p);
  const version = o.version;
  if (version !== undefined && version !== '4' && version !== '6') {
    p.add(CNI_CODE.DecodeFailure, at(where, 'version'), `must be "4" or "6", got ${truncatedJson(version, 40)}`);
  }
  if (address === undefined) return undefined;
  const cidr = parseCidr(address);
  if (!cidr) return p.add(CNI_CODE.InvalidConfig, at(where, 'address'), `${truncatedJson(address)} is not an address with a prefix length`, 'e.g. 10.1.0.5/24');
  if (gateway !== undefined && !isIp(gateway)) return p.add(CNI_CODE.InvalidConfig, at(where, 'gateway'), `${truncatedJson(gateway)} is not an IP address`);
  if (index !== undefined && index >= interfaces) {
    return p.add(CNI_CODE.InvalidConfig, at(where, 'interface'), `is ${index}, but there ${interfaces === 1 ? 'is 1 interface' : `are ${interfaces} interfaces`}`, 'it is an index into prevResult.interfaces');
  }
  const out: CniIpConfig = { address };
  if (gateway !== undefined) out.gateway = gateway;
  if (index !== undefined) out.interface = index;
  return out;
}

const ROUTE_UINTS = ['mtu', 'advmss', 'priority', 'table', 'scope'] as const;

function parseResultRoute(v: unknown, where: string, p: Problems): CniRoute | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const dst = requiredString(o, 'dst', where, p);
  const gw = optionalString(o, 'gw', where, p);
  const numbers = ROUTE_UINTS.map((key) => [key, optionalUint(o, key, where, p)] as const);
  if (dst === undefined) return undefined;
  if (!parseCidr(dst)) return p.add(CNI_CODE.InvalidConfig, at(where, 'dst'), `${truncatedJson(dst)} is not a destination prefix`, 'e.g. 0.0.0.0/0 or 10.2.0.0/16');
  if (gw !== undefined && !isIp(gw)) return p.add(CNI_CODE.InvalidConfig, at(where, 'gw'), `${truncatedJson(gw)} is not an IP address`);
  const out: CniRoute = { dst };
  if (gw !== undefined) out.gw = gw;
  for (const [key, n] of numbers) if (n !== undefined) out[key] = n;
  return out;
}

/**
 * A result of another plugin (or of a previous ADD), normalised to the 1.x
 * shape: ips[].version dropped, unknown keys dropped. Wrong JSON types are
 * code 6 (it cannot be decoded as a result), wrong values code 7.
 */
export function parseResult(v: unknown, where: string, cniVersion: CniVersion, p: Problems): CniResult | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const before = p.count;
  const out: CniResult = { cniVersion };
  const items = (key: string) => (o[key] === undefined ? undefined : p.array(o[key], at(where, key), CNI_CODE.DecodeFailure));
  const interfaces = items('interfaces')?.map((x, i) => parseResultInterface(x, at(at(where, 'interfaces'), i), p));
  const count = interfaces?.length ?? 0;
  const ips = items('ips')?.map((x, i) => parseResultIp(x, at(at(where, 'ips'), i), count, p));
  const routes = items('routes')?.map((x, i) => parseResultRoute(x, at(at(where, 'routes'), i), p));
  const dns = o.dns === undefined ? undefined : parseDns(o.dns, at(where, 'dns'), p, false);
  if (p.count !== before) return undefined;
  if (interfaces) out.interfaces = interfaces as CniInterface[];
  if (ips) out.ips = ips as CniIpConfig[];
  if (routes) out.routes = routes as CniRoute[];
  if (dns) out.dns = dns;
  return out;
}

/** A result object (e.g. a cached ADD result), checked and normalised to the 1.x shape; throws CniError. */
export function parseCniResult(v: unknown, cniVersion: CniVersion, where = 'prevResult'): CniResult {
  const p = new Problems();
  const result = parseResult(v, where, cniVersion, p);
  p.throwIfAny();
  return result as CniResult;
}
