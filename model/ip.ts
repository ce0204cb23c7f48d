// IPv4/IPv6 address and prefix helpers shared by validation, IPAM and the agent.
// Parsing goes through ip-cidr / ipaddr.js; IPv4 arithmetic is done on
// unsigned 32-bit integers because IPAM walks many addresses.
import IPCIDR from 'ip-cidr';
import ipaddr from 'ipaddr.js';
import { isIPv4 } from './ipv4-text.js';

export { isIPv4 } from './ipv4-text.js';

export interface Prefix4 {
  /** network address as an unsigned 32-bit integer */
  base: number;
  length: number;
}

export function isIPv6(text: string): boolean {
  return text.includes(':') && ipaddr.IPv6.isValid(text);
}

export function ipv4ToInt(text: string): number {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  const o = text.split('.').map(Number) as [number, number, number, number];
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export function intToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

export type PrefixProblem = 'syntax' | 'host-bits' | 'family';

/** Parse "a.b.c.d/n"; reports why it is not a clean IPv4 prefix. */
export function parsePrefix4(text: string): { prefix: Prefix4 } | { problem: PrefixProblem; hint: string } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  // A strict dotted quad with a length up to 32 is a CIDR ip-cidr accepts:
  // skip its costly check (validating a policy parses thousands of these).
  const plain = m !== null && isIPv4(m[1] as string) && Number(m[2]) <= 32;
  if (!m || (!plain && !IPCIDR.isValidCIDR(text))) {
    return { problem: 'syntax', hint: 'write an IPv4 prefix such as 10.10.0.0/24' };
  }
  const addr = m[1] as string;
  const length = Number(m[2]);
  if (!isIPv4(addr) || length > 32) {
    return isIPv6(addr) ? { problem: 'family', hint: 'this field takes IPv4; put IPv6 prefixes in subnet6' } : { problem: 'syntax', hint: 'write an IPv4 prefix such as 10.10.0.0/24' };
  }
  const ip = ipv4ToInt(addr);
  const base = (ip & maskOf(length)) >>> 0;
  if (base !== ip) {
    return { problem: 'host-bits', hint: `host bits are set; the network address is ${intToIpv4(base)}/${length}` };
  }
  return { prefix: { base, length } };
}

export function formatPrefix4(p: Prefix4): string {
  return `${intToIpv4(p.base)}/${p.length}`;
}

export function prefixSize(p: Prefix4): number {
  return 2 ** (32 - p.length);
}

export function prefixLast(p: Prefix4): number {
  return (p.base + prefixSize(p) - 1) >>> 0;
}

export function prefixContains(p: Prefix4, ip: number): boolean {
  return ((ip & maskOf(p.length)) >>> 0) === p.base;
}

export function prefixesOverlap(a: Prefix4, b: Prefix4): boolean {
  const len = Math.min(a.length, b.length);
  return ((a.base & maskOf(len)) >>> 0) === ((b.base & maskOf(len)) >>> 0);
}

export interface Prefix6 {
  address: ipaddr.IPv6;
  length: number;
}

export function parsePrefix6(text: string): { prefix: Prefix6 } | { problem: PrefixProblem; hint: string } {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    return { problem: 'syntax', hint: 'write an IPv6 prefix such as fd00:10::/64' };
  }
  const [address, length] = parsed;
  if (address.kind() !== 'ipv6') return { problem: 'family', hint: 'this field takes IPv6; put IPv4 prefixes in subnet' };
  const v6 = address as ipaddr.IPv6;
  const net = ipaddr.IPv6.networkAddressFromCIDR(text);
  if (net.toNormalizedString() !== v6.toNormalizedString()) {
    return { problem: 'host-bits', hint: `host bits are set; the network address is ${net.toString()}/${length}` };
  }
  return { prefix: { address: v6, length } };
}

export function prefix6Contains(p: Prefix6, text: string): boolean {
  if (!isIPv6(text)) return false;
  return ipaddr.IPv6.parse(text).match(p.address, p.length);
}

export function prefixes6Overlap(a: Prefix6, b: Prefix6): boolean {
  const len = Math.min(a.length, b.length);
  return a.address.match(b.address, len);
}

/** Locally administered unicast MAC from 5 random-ish bytes (first byte 0x02|..). */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
