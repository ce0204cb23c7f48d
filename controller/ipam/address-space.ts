// The address layout of one network, as pure arithmetic: which addresses are
// reserved (network, gateway, broadcast), how big host blocks are, and which
// blocks are still free. IPv4 only: blocks and statics are IPv4; IPv6 is
// carried in the plan but not allocated by the controller yet.
import { intToIpv4, ipv4ToInt, isIPv4, parsePrefix4, prefixContains, prefixLast, prefixSize, type Prefix4 } from '../../model/ip.js';
import type { Network } from '../../model/kinds.js';

const DEFAULT_BLOCK_LENGTH = 26;

export interface AddressSpace {
  network: string;
  subnet: string;
  prefix: Prefix4;
  gateway: number;
  broadcast: number;
  /** Prefix length of host blocks: spec.blockSize ?? /26, never larger than the subnet. */
  blockLength: number;
}

export type AddressClass = 'outside' | 'network' | 'gateway' | 'broadcast' | 'usable';

/** Layout of a validated network. Throws on an unparsable subnet (validation should have caught it). */
export function addressSpaceOf(net: Network): AddressSpace {
  const parsed = parsePrefix4(net.spec.subnet);
  if ('problem' in parsed) throw new Error(`network "${net.metadata.name}": bad subnet ${net.spec.subnet}: ${parsed.hint}`);
  const prefix = parsed.prefix;
  const gateway = net.spec.gateway !== undefined ? ipv4ToInt(net.spec.gateway) : prefix.base + 1;
  return {
    network: net.metadata.name,
    subnet: net.spec.subnet,
    prefix,
    gateway,
    broadcast: prefixLast(prefix),
    blockLength: Math.max(net.spec.blockSize ?? DEFAULT_BLOCK_LENGTH, prefix.length),
  };
}

export function classifyAddress(space: AddressSpace, ip: number): AddressClass {
  if (!prefixContains(space.prefix, ip)) return 'outside';
  if (ip === space.prefix.base) return 'network';
  if (ip === space.gateway) return 'gateway';
  if (ip === space.broadcast) return 'broadcast';
  return 'usable';
}

/** Owner names of the addresses no endpoint may have; the planner sends them as reservations. */
export function systemAddresses(space: AddressSpace): Array<{ ip: number; owner: string }> {
  return [
    { ip: space.prefix.base, owner: 'weft:network' },
    { ip: space.gateway, owner: 'weft:gateway' },
    { ip: space.broadcast, owner: 'weft:broadcast' },
  ];
}

/** "10.0.0.2 - 10.0.0.254, except the gateway 10.0.0.1": for error messages. */
export function usableRange(space: AddressSpace): string {
  const first = space.prefix.base + 1;
  const last = space.broadcast - 1;
  const gwInside = space.gateway > first && space.gateway < last;
  const lo = space.gateway === first ? first + 1 : first;
  const hi = space.gateway === last ? last - 1 : last;
  return `${intToIpv4(lo)} - ${intToIpv4(hi)}${gwInside ? `, except the gateway ${intToIpv4(space.gateway)}` : ''}`;
}

export function parseBlock(cidr: string): Prefix4 {
  const parsed = parsePrefix4(cidr);
  if ('problem' in parsed) throw new Error(`bad block ${cidr}: ${parsed.hint}`);
  return parsed.prefix;
}

export function parseIp(text: string): number | undefined {
  return isIPv4(text) ? ipv4ToInt(text) : undefined;
}

/** The aligned block of this network's block size that contains ip. */
export function blockContaining(space: AddressSpace, ip: number): Prefix4 {
  const size = 2 ** (32 - space.blockLength);
  return { base: Math.floor(ip / size) * size, length: space.blockLength };
}

/** Number of blocks the subnet holds. */
export function blockCount(space: AddressSpace): number {
  return prefixSize(space.prefix) / 2 ** (32 - space.blockLength);
}

/**
 * Free blocks of the network's block size, lowest address first, skipping
 * every block that overlaps one already taken (taken blocks may have other
 * sizes if spec.blockSize changed).
 */
export function* freeBlocks(space: AddressSpace, taken: Prefix4[]): Generator<Prefix4> {
  const size = 2 ** (32 - space.blockLength);
  const spans = taken.map((p) => ({ first: p.base, last: prefixLast(p) })).sort((a, b) => a.first - b.first);
  const end = space.broadcast;
  let i = 0;
  let c = space.prefix.base;
  while (c <= end) {
    const cLast = c + size - 1;
    while (i < spans.length && (spans[i] as { last: number }).last < c) i++;
    const t = spans[i];
    if (t && t.first <= cLast) {
      // Blocks are aligned to their own size, so the next candidate is the first aligned one past t.
      c = Math.ceil((t.last + 1) / size) * size;
      continue;
    }
    yield { base: c, length: space.blockLength };
    c += size;
  }
}
