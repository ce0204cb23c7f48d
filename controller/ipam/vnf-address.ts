// Picking a VNF's address on a network when the user gives none, every
// kind alike. Like a router's, it comes from the top of the subnet (the
// highest usable address nobody holds), which is also where host blocks,
// handed out from the bottom, are least likely to be. Preference: an address
// in no host's block; then one in the block of the VNF's own host (the
// reservation reaches that host's agent in its plan, so the agent never hands
// it out); then one borrowed from another host's block, like any static
// (ipam.ts: a loan the block's owner confirms before the VNF gets it).
import { WeftError } from '../../model/errors.js';
import { intToIpv4, prefixContains } from '../../model/ip.js';
import type { StoreReader } from '../store/store.js';
import { addressSpaceOf, classifyAddress, parseBlock, parseIp } from './address-space.js';

/** `what`: the VNF's kind, for the message when there is none ("firewall"). */
export function pickVnfAddress(r: StoreReader, network: string, host: string, what: string): string {
  const net = r.getResource('Network', network);
  if (!net) throw new WeftError('NotFound', `network "${network}" does not exist`);
  const space = addressSpaceOf(net);
  const held = new Set<number>();
  for (const e of r.listEndpointRecords({ network })) {
    const ip = parseIp(e.spec.ip ?? e.status?.ip ?? '');
    if (ip !== undefined) held.add(ip);
  }
  for (const res of r.listReservations({ network })) {
    const ip = parseIp(res.ip);
    if (ip !== undefined) held.add(ip);
  }
  const blocks = r.listBlocks({ network }).map((b) => ({ prefix: parseBlock(b.cidr), host: b.host }));
  const ownerOf = (ip: number) => blocks.find((b) => prefixContains(b.prefix, ip))?.host;
  const free = (ip: number) => classifyAddress(space, ip) === 'usable' && !held.has(ip);
  let inOwnBlock: number | undefined;
  let borrowed: number | undefined;
  for (let ip = space.broadcast - 1; ip > space.prefix.base; ip--) {
    if (!free(ip)) continue;
    const owner = ownerOf(ip);
    if (owner === undefined) return intToIpv4(ip);
    if (owner === host) inOwnBlock ??= ip;
    else borrowed ??= ip;
  }
  const picked = inOwnBlock ?? borrowed;
  if (picked !== undefined) return intToIpv4(picked);
  throw new WeftError('Exhausted', `network "${network}" (${space.subnet}) has no free address for a ${what} on host "${host}"; free addresses or give the network a larger subnet`);
}
