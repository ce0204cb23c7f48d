// The underlay (VTEP) address an agent reports in its hello, checked before
// it reaches other hosts' plans: every other agent would point FDB entries
// at it, so a wrong one must stay out rather than break their forwarding.
import { ipv4ToInt, isIPv4 } from '../../model/ip.js';

export type VtepAddress = { address: string } | { problem: string };

/**
 * An IPv4 unicast address (the overlay is VXLAN over IPv4: the 50-byte
 * overhead in the MTU assumes it). An IPv4-mapped IPv6 form, which is what a
 * dual-stack socket reports for an IPv4 connection, is unwrapped.
 */
export function parseVtepAddress(text: string): VtepAddress {
  const t = text.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  const v4 = mapped ? (mapped[1] as string) : t;
  if (!isIPv4(v4)) return { problem: `underlay address ${JSON.stringify(text)} is not an IPv4 address: the overlay runs VXLAN over IPv4` };
  const n = ipv4ToInt(v4);
  if (n === 0) return { problem: `underlay address ${v4} is the unspecified address; configure the address other hosts reach this one at` };
  if (n >>> 28 === 0xe || n === 0xffffffff) return { problem: `underlay address ${v4} is not a unicast address` };
  return { address: v4 };
}
