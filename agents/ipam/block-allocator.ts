// Local IPAM: addresses come from this host's blocks of a network (Calico
// style), so attaches need no controller round trip. An address is free when
// it is not the subnet's network/broadcast/gateway, not reserved by the plan
// (loans to other hosts included, confirmed or not: loan-confirmer.ts), not
// held by a record (attached or still deleting), not held by an attach in
// flight, and not quarantined while its old veth is being deleted. A static
// address outside our blocks (another host's block too) is reserved at the
// controller first.
import { inject, injectable } from 'inversify';
import type { PlanNetwork } from '../../model/agent-protocol.js';
import { WeftError } from '../../model/errors.js';
import { ip4Preimage } from '../../model/dual-stack.js';
import { intToIpv4, ipv4ToInt, maskOf, parsePrefix4, prefixContains, prefixLast, type Prefix4 } from '../../model/ip.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from '../controller-uplink.js';
import { EndpointStore } from '../state/endpoint-store.js';
import { PlanState } from '../state/plan-state.js';

export interface Allocation {
  ip: string;
  /** True when the controller reserved it outside our blocks: release it there too. */
  remote: boolean;
}

interface Quarantine {
  owner: string;
  released: Promise<void>;
  release: () => void;
}

/** Grants in a row that still leave no free address before giving up. */
const MAX_BLOCK_REQUESTS = 3;

/**
 * The IPv4 address whose IPv6 image is the network's gateway6 (model/dual-stack.ts):
 * handed out, its endpoint's IPv6 address would be the gateway's.
 */
function gateway6Preimage(network: PlanNetwork): number | undefined {
  if (network.subnet6 === undefined || network.gateway6 === undefined) return undefined;
  const ip = ip4Preimage({ subnet: network.subnet, subnet6: network.subnet6 }, network.gateway6);
  return ip === undefined ? undefined : ipv4ToInt(ip);
}

function subnetOf(network: PlanNetwork): Prefix4 {
  const p = parsePrefix4(network.subnet);
  if ('prefix' in p) return p.prefix;
  // A plan the controller validated never gets here; tolerate host bits.
  const [addr] = network.subnet.split('/');
  const base = (ipv4ToInt(addr ?? '') & maskOf(network.prefixLength)) >>> 0;
  return { base, length: network.prefixLength };
}

@injectable()
export class BlockAllocator {
  /** network -> ip -> owner, for attaches that have not written their record yet */
  private readonly held = new Map<string, Map<number, string>>();
  private readonly quarantined = new Map<string, Map<number, Quarantine>>();
  /** network -> last address handed out: next-fit, so a freed address is not reused at once */
  private readonly cursor = new Map<string, number>();
  private readonly blockRequests = new Map<string, Promise<void>>();
  private readonly freedListeners = new Set<() => void>();

  constructor(
    @inject(PlanState) private readonly plan: PlanState,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(CONTROLLER_UPLINK) private readonly uplink: ControllerUplink,
  ) {}

  /**
   * Take an address for `owner` (an endpoint name). It stays held until
   * release(). A static request is reserved at the controller for
   * `containerId`: the controller keys reservations by container.
   */
  async allocate(network: PlanNetwork, owner: string, requested?: string, containerId = owner): Promise<Allocation> {
    return requested === undefined ? this.allocateDynamic(network, owner) : this.allocateStatic(network, owner, requested, containerId);
  }

  /** Drop the in-flight hold: after the record is written (it holds the address now) or on undo. */
  release(network: string, ip: string): void {
    const m = this.held.get(network);
    m?.delete(ipv4ToInt(ip));
    if (m?.size === 0) this.held.delete(network);
    this.notifyFreed();
  }

  /** Told whenever an address may have become free here (a hold dropped, a quarantine lifted). */
  onFreed(listener: () => void): () => void {
    this.freedListeners.add(listener);
    return () => this.freedListeners.delete(listener);
  }

  /**
   * Who uses `ip` on this host, whatever the plan says: a record (attached
   * or deleting), an attach in flight, or an old interface being deleted.
   * Undefined when nothing here has it.
   */
  localUser(network: string, ip: string): string | undefined {
    const key = ipv4ToInt(ip);
    return this.store.ownerOf(network, ip) ?? this.held.get(network)?.get(key) ?? this.quarantined.get(network)?.get(key)?.owner;
  }

  private notifyFreed(): void {
    for (const l of this.freedListeners) l();
  }

  /** Keep `ip` out of use until unquarantine(): its old interface still exists. */
  quarantine(network: string, ip: string, owner: string): void {
    const key = ipv4ToInt(ip);
    let m = this.quarantined.get(network);
    if (!m) this.quarantined.set(network, (m = new Map()));
    if (m.has(key)) return;
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    m.set(key, { owner, released, release });
  }

  unquarantine(network: string, ip: string): void {
    const m = this.quarantined.get(network);
    const key = ipv4ToInt(ip);
    const q = m?.get(key);
    if (!m || !q) return;
    m.delete(key);
    if (m.size === 0) this.quarantined.delete(network);
    q.release();
    this.notifyFreed();
  }

  isQuarantined(network: string, ip: string): boolean {
    return this.quarantined.get(network)?.has(ipv4ToInt(ip)) ?? false;
  }

  /** Whether `ip` lies inside one of this host's blocks of `network`. */
  isOwn(network: string, ip: string): boolean {
    const n = ipv4ToInt(ip);
    return this.ownRanges(network).some((b) => prefixContains(b, n));
  }

  private ownRanges(network: string): Prefix4[] {
    const out: Prefix4[] = [];
    for (const b of this.plan.blocksOf(network)) {
      const p = parsePrefix4(b.cidr);
      if ('prefix' in p) out.push(p.prefix);
    }
    return out.sort((a, b) => a.base - b.base);
  }

  private hold(network: string, ip: number, owner: string): void {
    let m = this.held.get(network);
    if (!m) this.held.set(network, (m = new Map()));
    m.set(ip, owner);
  }

  /**
   * Who keeps `ip` from being handed out, or undefined when it is free. The
   * records are asked one address at a time (an indexed lookup): a scan
   * usually stops at the first address it asks about, and reading every
   * address of the network for each attach grows with the network.
   */
  private blocker(network: PlanNetwork, subnet: Prefix4, gateway: number, ip: number, reserved: Map<number, string>, gateway6?: number): string | undefined {
    if (ip === subnet.base) return 'the network address';
    if (ip === prefixLast(subnet)) return 'the broadcast address';
    if (ip === gateway) return 'the gateway';
    if (ip === gateway6) return `the IPv6 gateway (${network.gateway6 ?? ''} is this address's IPv6 image)`;
    return (
      this.store.ownerOf(network.name, intToIpv4(ip)) ??
      this.held.get(network.name)?.get(ip) ??
      this.quarantined.get(network.name)?.get(ip)?.owner ??
      reserved.get(ip)
    );
  }

  private reservations(network: string): Map<number, string> {
    const out = new Map<number, string>();
    for (const r of this.plan.current()?.reservations ?? []) {
      if (r.network === network) out.set(ipv4ToInt(r.ip), r.owner);
    }
    return out;
  }

  /** One synchronous scan (no await inside: two scans never interleave). */
  private scan(network: PlanNetwork, owner: string): string | undefined {
    const subnet = subnetOf(network);
    const gateway = ipv4ToInt(network.gateway);
    const gateway6 = gateway6Preimage(network);
    const reserved = this.reservations(network.name);
    const ranges = this.ownRanges(network.name).filter((b) => prefixContains(subnet, b.base));
    const last = this.cursor.get(network.name) ?? -1;
    // Next-fit: addresses after the cursor first, then wrap around.
    for (const pass of [0, 1]) {
      for (const r of ranges) {
        const end = pass === 0 ? prefixLast(r) : Math.min(prefixLast(r), last);
        for (let ip = pass === 0 ? Math.max(r.base, last + 1) : r.base; ip <= end; ip++) {
          if (this.blocker(network, subnet, gateway, ip, reserved, gateway6) !== undefined) continue;
          this.hold(network.name, ip, owner);
          this.cursor.set(network.name, ip);
          return intToIpv4(ip);
        }
      }
    }
    return undefined;
  }

  private async allocateDynamic(network: PlanNetwork, owner: string): Promise<Allocation> {
    for (let grants = 0; ; grants++) {
      const ip = this.scan(network, owner);
      if (ip !== undefined) return { ip, remote: false };
      if (grants >= MAX_BLOCK_REQUESTS) {
        throw new WeftError('Exhausted', `network "${network.name}": no free address in this host's blocks after ${grants} new blocks`);
      }
      if (!this.uplink.connected) {
        throw new WeftError(
          'NotReady',
          `network "${network.name}": this host's address blocks are full and the controller is unreachable to grant another; try again later`,
        );
      }
      await this.requestBlock(network.name);
    }
  }

  /** One block request per network at a time; concurrent allocations share it. */
  private requestBlock(network: string): Promise<void> {
    let pending = this.blockRequests.get(network);
    if (!pending) {
      pending = this.uplink
        .requestBlock(network)
        .then((block) => this.plan.addBlock(block))
        .finally(() => this.blockRequests.delete(network));
      this.blockRequests.set(network, pending);
    }
    return pending;
  }

  private async allocateStatic(network: PlanNetwork, owner: string, requested: string, containerId: string): Promise<Allocation> {
    const subnet = subnetOf(network);
    const ip = ipv4ToInt(requested);
    if (!prefixContains(subnet, ip)) {
      throw new WeftError('Invalid', `ip ${requested} is not inside network "${network.name}" (${network.subnet})`, {
        details: [{ path: '/ip', message: `not inside ${network.subnet}`, value: requested }],
      });
    }
    if (ip === subnet.base || ip === prefixLast(subnet)) {
      throw new WeftError('Invalid', `ip ${requested} is the ${ip === subnet.base ? 'network' : 'broadcast'} address of ${network.subnet}`, {
        details: [{ path: '/ip', message: 'not a usable host address', value: requested }],
      });
    }
    if (ip === ipv4ToInt(network.gateway)) {
      throw new WeftError('Invalid', `ip ${requested} is the gateway of network "${network.name}"; pick another address in ${network.subnet}`, {
        details: [{ path: '/ip', message: 'is the gateway address', value: requested }],
      });
    }
    for (;;) {
      // An address whose old interface is still being deleted becomes free in
      // a few ms: wait rather than fail.
      const q = this.quarantined.get(network.name)?.get(ip);
      if (q) {
        await q.released;
        continue;
      }
      const reserved = this.reservations(network.name);
      const reservedFor = reserved.get(ip);
      if (reservedFor === containerId) reserved.delete(ip); // the controller reserved it for this very container
      const blocker = this.blocker(network, subnet, ipv4ToInt(network.gateway), ip, reserved, gateway6Preimage(network));
      if (blocker !== undefined) {
        throw new WeftError('AddressInUse', `ip ${requested} on network "${network.name}" is in use by ${blocker}`, {
          details: [{ path: '/ip', message: `in use by ${blocker}`, value: requested }],
        });
      }
      if (this.isOwn(network.name, requested) || reservedFor === containerId) {
        this.hold(network.name, ip, owner);
        return { ip: requested, remote: false };
      }
      if (!this.uplink.connected) {
        throw new WeftError('NotReady', `ip ${requested} is outside this host's blocks of "${network.name}" and the controller is unreachable to reserve it`);
      }
      // Hold it across the round trip so no local request takes it meanwhile.
      this.hold(network.name, ip, owner);
      try {
        await this.uplink.requestStatic(network.name, requested, containerId);
      } catch (e: unknown) {
        this.release(network.name, requested);
        throw e;
      }
      return { ip: requested, remote: true };
    }
  }
}
