// The addresses a container asks for: one IPv4 address, from
// runtimeConfig.ips, args.cni.ips or CNI_ARGS IP=, and a unicast MAC.
import { isIPv4, isIPv6 } from '../ip.js';
import { MAC_PATTERN } from '../kinds.js';
import { truncatedJson } from './cni-error.js';
import { at, type Problems } from './cni-problems.js';
import { CNI_CODE } from './cni-types.js';

const MAC = new RegExp(MAC_PATTERN);

export function parseMac(v: unknown, where: string, code: number, p: Problems): string | undefined {
  const s = p.string(v, where, code);
  if (s === undefined) return undefined;
  const fix = 'six hex octets separated by ":", unicast, e.g. 02:42:ac:11:00:02';
  if (!MAC.test(s)) return p.add(code, where, `${truncatedJson(s)} is not a MAC address`, fix);
  if (parseInt(s.slice(0, 2), 16) & 1) return p.add(code, where, `${s} is a multicast MAC; an interface needs a unicast address`, fix);
  if (/^(00:){5}00$/.test(s)) return p.add(code, where, 'the all-zero MAC is not a usable address', fix);
  return s.toLowerCase();
}

export interface AddressPick {
  ip: string;
  prefixLength?: number;
}

/** Requested addresses ("a.b.c.d" or "a.b.c.d/len"): weft gives an interface exactly one IPv4 address. */
function parseIps(entries: unknown[], where: string, entryWhere: (i: number) => string, code: number, p: Problems): AddressPick | undefined {
  const before = p.count;
  const fix = 'request one IPv4 address, optionally with its prefix length: 10.1.0.5 or 10.1.0.5/24';
  const found: AddressPick[] = [];
  entries.forEach((entry, i) => {
    const w = entryWhere(i);
    const s = p.string(entry, w, code);
    if (s === undefined) return;
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(s);
    const addr = m?.[1] ?? s;
    if (isIPv6(addr)) {
      p.add(
        code,
        w,
        `${truncatedJson(s)} is an IPv6 address; weft takes one IPv4 address, and on a dual-stack network the IPv6 address follows from it (the same offset in subnet6)`,
        'remove the IPv6 address',
      );
      return;
    }
    if (!m || !isIPv4(addr)) {
      p.add(code, w, `${truncatedJson(s)} is not an IPv4 address`, fix);
      return;
    }
    const pick: AddressPick = { ip: addr };
    if (m[2] !== undefined) {
      const length = Number(m[2]);
      if (length > 32) {
        p.add(code, w, `prefix length /${length} is out of range, 0-32`, fix);
        return;
      }
      pick.prefixLength = length;
    }
    found.push(pick);
  });
  if (found.length > 1) {
    p.add(code, where, `asks for ${found.length} IPv4 addresses (${found.map((f) => f.ip).join(', ')}); weft gives each interface one IPv4 address`, 'request one address');
  }
  return p.count === before ? found[0] : undefined;
}

/** runtimeConfig.ips > args.cni.ips > CNI_ARGS IP= (CONVENTIONS.md: CNI_ARGS is ignored when args give ips). */
export function pickAddress(rcIps: unknown, argIps: unknown, cniArgIp: string | undefined, p: Problems): AddressPick | undefined {
  const fromArray = (v: unknown, where: string): AddressPick | undefined | 'absent' => {
    if (v === undefined) return 'absent';
    const a = p.array(v, where);
    if (!a) return undefined;
    if (a.length === 0) return 'absent';
    return parseIps(a, where, (i) => at(where, i), CNI_CODE.InvalidConfig, p);
  };
  const rc = fromArray(rcIps, 'runtimeConfig.ips');
  if (rc !== 'absent') return rc;
  const args = fromArray(argIps, 'args.cni.ips');
  if (args !== 'absent') return args;
  if (cniArgIp === undefined) return undefined;
  const where = 'CNI_ARGS IP';
  return parseIps(cniArgIp.split(','), where, () => where, CNI_CODE.InvalidEnv, p);
}
