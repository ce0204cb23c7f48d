// Address management on top of the store. Hosts own blocks (Calico-style):
// the agent hands out addresses from its blocks locally, the controller only
// keeps blocks disjoint, records what agents report, and guards statics.
// Every method runs inside the caller's store transaction, so a check and
// the write it permits cannot be separated by another request.
//
// A static address may be any free address of the subnet, from any host.
// One inside another host's block is a loan: the block's owner allocates
// from it without asking the controller, so only its agent can say the
// address is free. The reservation is written pending (no other request can
// take the address from then on), reaches the owner in its plan (its agent
// stops handing it out), and becomes usable when the owner answers
// loanConfirmed. If the owner's own endpoint got the address first, that
// endpoint is accepted and the loan never confirms.
import { injectable } from 'inversify';
import type { EndpointReport } from '../../model/agent-protocol.js';
import { WeftError } from '../../model/errors.js';
import { canonicalIp6, endpointIp6, isDualStack } from '../../model/dual-stack.js';
import { formatPrefix4, isIPv6, prefixContains, prefixesOverlap, type Prefix4 } from '../../model/ip.js';
import type { Endpoint, Network } from '../../model/kinds.js';
import type { BlockRow, ReservationRow, StoreReader, StoreTx } from '../store/store.js';
import {
  addressSpaceOf, blockContaining, blockCount, classifyAddress, freeBlocks, parseBlock, parseIp, usableRange, type AddressSpace,
} from './address-space.js';

/** Who holds an address, for AddressInUse messages. */
export interface AddressHolder {
  kind: 'endpoint' | 'reservation';
  owner: string;
  host?: string;
  describe: string;
}

export interface StaticRequest {
  network: string;
  ip: string;
  owner: string;
  host: string;
  source: ReservationRow['source'];
  ref?: string;
  /** JSON pointer of the ip in the request, for error fields. */
  field?: string;
}

@injectable()
export class Ipam {
  requireNetwork(r: StoreReader, name: string, field?: string): Network {
    const net = r.getResource('Network', name);
    if (!net) throw new WeftError('NotFound', `network "${name}" does not exist`, field === undefined ? {} : { field });
    return net;
  }

  space(r: StoreReader, name: string): AddressSpace {
    return addressSpaceOf(this.requireNetwork(r, name));
  }

  /**
   * Give host a new block of the network. A pre-grant (unasked, on hello or
   * network creation) never takes the last free block, so a host that really
   * needs addresses can still get one; it returns undefined instead of failing.
   */
  grantBlock(tx: StoreTx, network: string, host: string, opts: { pregrant?: boolean } = {}): BlockRow | undefined {
    const space = this.space(tx, network);
    const existing = tx.listBlocks({ network });
    const foreign = tx
      .listReservations({ network })
      .filter((r) => r.host !== undefined && r.host !== host)
      .map((r) => parseIp(r.ip))
      .filter((ip): ip is number => ip !== undefined);
    let first: Prefix4 | undefined;
    let clean: Prefix4 | undefined;
    let freeCount = 0;
    for (const b of freeBlocks(space, existing.map((e) => parseBlock(e.cidr)))) {
      freeCount++;
      first ??= b;
      // Prefer a block holding no address reserved for another host, so that host's statics stay outside others' blocks.
      if (!clean && !foreign.some((ip) => prefixContains(b, ip))) clean = b;
      if (clean && freeCount >= 2) break;
    }
    const chosen = clean ?? first;
    if (opts.pregrant && freeCount < 2) return undefined;
    if (!chosen) {
      const owners = [...new Set(existing.map((b) => b.host))].sort();
      throw new WeftError(
        'Exhausted',
        `network "${network}" (${space.subnet}) has no free /${space.blockLength} address block: all ${blockCount(space)} are owned by ${owners.length === 1 ? 'host' : 'hosts'} ${owners.map((o) => `"${o}"`).join(', ')}`,
      );
    }
    const block: BlockRow = { network, cidr: formatPrefix4(chosen), host };
    tx.addBlock(block);
    return block;
  }

  /** One block per network for host where it has none and one can be spared. */
  ensurePregrants(tx: StoreTx, host: string): BlockRow[] {
    const have = new Set(tx.listBlocks({ host }).map((b) => b.network));
    const granted: BlockRow[] = [];
    for (const net of tx.listResources('Network')) {
      if (have.has(net.metadata.name)) continue;
      const b = this.grantBlock(tx, net.metadata.name, host, { pregrant: true });
      if (b) granted.push(b);
    }
    return granted;
  }

  /** The block (any host's) of the network that contains ip. */
  blockOf(r: StoreReader, network: string, ip: number): BlockRow | undefined {
    return r.listBlocks({ network }).find((b) => prefixContains(parseBlock(b.cidr), ip));
  }

  holderOf(r: StoreReader, network: string, ip: string): AddressHolder | undefined {
    const ep = r.findEndpointRecordByIp(network, ip);
    if (ep) {
      return { kind: 'endpoint', owner: ep.spec.containerId, host: ep.spec.host, describe: `endpoint "${ep.metadata.name}" (container ${ep.spec.containerId} on host "${ep.spec.host}")` };
    }
    const res = r.getReservation(network, ip);
    if (res) {
      const what = res.source === 'declared' ? `declared endpoint "${res.ref ?? res.owner}"` : `a static reservation`;
      const ipn = parseIp(ip);
      const lender = res.pending && ipn !== undefined ? this.blockOf(r, network, ipn)?.host : undefined;
      const waiting = lender === undefined ? '' : ` (borrowed from host "${lender}"'s block, waiting for that host to confirm it free)`;
      const holder: AddressHolder = { kind: 'reservation', owner: res.owner, describe: `${what} for ${res.owner}${res.host ? ` on host "${res.host}"` : ''}${waiting}` };
      if (res.host !== undefined) holder.host = res.host;
      return holder;
    }
    return undefined;
  }

  /** Syntax, subnet and reserved-address checks for an address an endpoint wants. */
  checkUsable(space: AddressSpace, ipText: string, field: string): number {
    const ip = parseIp(ipText);
    if (ip === undefined) throw new WeftError('Invalid', `${JSON.stringify(ipText)} is not an IPv4 address`, { details: [{ path: field, message: 'not an IPv4 address', value: ipText }] });
    const cls = classifyAddress(space, ip);
    if (cls !== 'usable') {
      const why = cls === 'outside' ? `is outside network "${space.network}" (${space.subnet})` : `is the ${cls === 'network' ? 'network address' : cls} of network "${space.network}"`;
      throw new WeftError('Invalid', `${ipText} ${why}; usable addresses are ${usableRange(space)}`, {
        details: [{ path: field, message: why, value: ipText, allowed: usableRange(space) }],
      });
    }
    return ip;
  }

  /** Reserve a static address (declared endpoint or agent request); idempotent for the same owner and host. */
  reserveStatic(tx: StoreTx, req: StaticRequest): ReservationRow {
    const field = req.field ?? '/ip';
    const space = this.space(tx, req.network);
    const ip = this.checkUsable(space, req.ip, field);
    const holder = this.holderOf(tx, req.network, req.ip);
    const existing = tx.getReservation(req.network, req.ip);
    if (holder && (holder.owner !== req.owner || (holder.host !== undefined && holder.host !== req.host))) {
      throw new WeftError('AddressInUse', `${req.ip} on network "${req.network}" is taken by ${holder.describe}`, { field });
    }
    if (existing?.source === 'declared' && req.source === 'declared' && existing.ref !== req.ref) {
      throw new WeftError('AddressInUse', `${req.ip} on network "${req.network}" is already declared for endpoint "${existing.ref ?? existing.owner}"`, { field });
    }
    // The same owner asking again: keep a declaration rather than downgrade it to an agent reservation.
    if (existing && existing.source === 'declared' && req.source === 'agent') return existing;
    const row: ReservationRow = { network: req.network, ip: req.ip, owner: req.owner, host: req.host, source: req.source };
    if (req.ref !== undefined) row.ref = req.ref;
    // A loan stays confirmed when its holder asks again; a new one waits for the block's owner.
    const lender = this.lenderOf(tx, req.network, ip, req.host);
    const confirmed = existing !== undefined && !existing.pending && existing.owner === req.owner && existing.host === req.host;
    if (lender !== undefined && !confirmed) row.pending = true;
    tx.putReservation(row);
    return row;
  }

  /** The host whose block holds ip when that is not `host`: the one that must confirm a loan of it. */
  lenderOf(r: StoreReader, network: string, ip: number, host: string | undefined): BlockRow | undefined {
    const block = this.blockOf(r, network, ip);
    return block && block.host !== host ? block : undefined;
  }

  /**
   * The owner of the block holding a pending loan says the address is free
   * and excluded from its allocation. Only that host may say so, and only
   * while no endpoint record has the address. True when it confirmed.
   */
  confirmLoan(tx: StoreTx, host: string, network: string, ipText: string): boolean {
    const res = tx.getReservation(network, ipText);
    const ip = parseIp(ipText);
    if (!res?.pending || ip === undefined) return false;
    if (this.blockOf(tx, network, ip)?.host !== host) {
      throw new WeftError('Invalid', `host "${host}" cannot confirm ${ipText} on network "${network}": the address is not in one of its blocks`);
    }
    const recorded = tx.findEndpointRecordByIp(network, ipText);
    if (recorded && recorded.spec.containerId !== res.owner) return false;
    const { pending: _pending, ...confirmed } = res;
    tx.putReservation(confirmed);
    return true;
  }

  /** Drop an agent reservation of host; declared ones belong to their Endpoint resource. */
  releaseStatic(tx: StoreTx, network: string, ip: string, host: string): boolean {
    const res = tx.getReservation(network, ip);
    if (!res || res.source !== 'agent' || (res.host !== undefined && res.host !== host)) return false;
    return tx.deleteReservation(network, ip);
  }

  /**
   * May host record this endpoint? Its address must be usable, inside one of
   * the host's blocks or reserved for this container, and not recorded for
   * another endpoint. With adopt (hello after an absence), an address in a
   * block nobody owns any more re-grants that block to the host.
   */
  checkEndpointAddress(tx: StoreTx, host: string, rep: EndpointReport, opts: { adopt?: boolean } = {}): void {
    const net = this.requireNetwork(tx, rep.network);
    const space = addressSpaceOf(net);
    const ip = this.checkUsable(space, rep.ip, '/endpoint/ip');
    this.checkIp6(net, rep);
    const recorded = tx.findEndpointRecordByIp(rep.network, rep.ip);
    if (recorded && recorded.metadata.name !== rep.name) {
      throw new WeftError('AddressInUse', `${rep.ip} on network "${rep.network}" is already recorded for endpoint "${recorded.metadata.name}" on host "${recorded.spec.host}"`);
    }
    const res = tx.getReservation(rep.network, rep.ip);
    const ownBlock = this.blockOf(tx, rep.network, ip)?.host === host;
    // The block's owner gave the address to one of its endpoints before it saw the loan: that endpoint is real, the loan never confirms.
    if (res && !(res.pending && ownBlock)) {
      if (res.owner === rep.containerId && (res.host === undefined || res.host === host)) return;
      throw new WeftError('AddressInUse', `${rep.ip} on network "${rep.network}" is reserved for ${res.owner}${res.host ? ` on host "${res.host}"` : ''}, not container ${rep.containerId}`);
    }
    if (ownBlock) return;
    const block = this.blockOf(tx, rep.network, ip);
    if (block) {
      throw new WeftError('AddressInUse', `${rep.ip} is inside ${block.cidr}, the address block of host "${block.host}", not of host "${host}"`);
    }
    if (opts.adopt) {
      const candidate = blockContaining(space, ip);
      const clash = tx.listBlocks({ network: rep.network }).some((b) => prefixesOverlap(parseBlock(b.cidr), candidate));
      if (!clash) {
        tx.addBlock({ network: rep.network, cidr: formatPrefix4(candidate), host });
        return;
      }
    }
    throw new WeftError('Invalid', `${rep.ip} is in none of host "${host}"'s address blocks of network "${rep.network}" and not reserved for container ${rep.containerId}; request a block or a static address first`);
  }

  /**
   * An endpoint's IPv6 address, when it reports one, is its IPv4 address's
   * image (model/dual-stack.ts) on a dual-stack network. One without is an
   * IPv4-only endpoint: made before its network had subnet6 or before its
   * agent did IPv6, and kept as it was made.
   */
  private checkIp6(net: Network, rep: EndpointReport): void {
    if (rep.ip6 === undefined) return;
    if (!isDualStack(net.spec)) {
      throw new WeftError('Invalid', `endpoint "${rep.name}" claims IPv6 address ${rep.ip6}, but network "${rep.network}" gives its endpoints no IPv6 addresses (no subnet6, or one too small for its subnet)`);
    }
    const want = endpointIp6(net.spec, rep.ip);
    if (!isIPv6(rep.ip6) || canonicalIp6(rep.ip6) !== want) {
      throw new WeftError('Invalid', `endpoint "${rep.name}" claims IPv6 address ${rep.ip6}; on network "${rep.network}" the address of ${rep.ip} is ${want}`);
    }
  }

  /** After an endpoint record went away: its agent static (same container, same host) goes too. */
  freeEndpointAddress(tx: StoreTx, record: Endpoint): void {
    const ip = record.spec.ip ?? record.status?.ip;
    if (ip === undefined) return;
    const res = tx.getReservation(record.spec.network, ip);
    if (res?.source === 'agent' && res.owner === record.spec.containerId && (res.host === undefined || res.host === record.spec.host)) {
      tx.deleteReservation(record.spec.network, ip);
    }
  }

  /**
   * Remove host's blocks that hold no endpoint and no address reserved for
   * the host. Returns what went. Loans from a removed block stay: with no
   * owner left to confirm them, pending ones are confirmed.
   */
  reclaimBlocks(tx: StoreTx, host: string): BlockRow[] {
    const records = tx.listEndpointRecords({ host });
    const reserved = tx.listReservations({ host });
    const reclaimed: BlockRow[] = [];
    for (const b of tx.listBlocks({ host })) {
      const p = parseBlock(b.cidr);
      const inside = (network: string, ip: string | undefined) => network === b.network && ip !== undefined && prefixContains(p, parseIp(ip) ?? -1);
      if (records.some((e) => inside(e.spec.network, e.spec.ip)) || reserved.some((r) => inside(r.network, r.ip))) continue;
      tx.deleteBlock(b.network, b.cidr);
      for (const r of tx.listReservations({ network: b.network })) {
        if (!r.pending || !inside(r.network, r.ip)) continue;
        const { pending: _pending, ...confirmed } = r;
        tx.putReservation(confirmed);
      }
      reclaimed.push(b);
    }
    return reclaimed;
  }
}
