// The overlay of a network on this host: its VXLAN device (the network's
// VNI, this host's VTEP address, UDP 4789, learning off, ARP/ND proxy on, the
// network's MTU, the underlay device as lower device) enslaved to the
// network's bridge and up, and the FDB / neighbour entries the controller
// programs on it. ensureNetwork is the attach path: bridge then VXLAN,
// cached per network like bridges, so the first attach on a network makes
// both without waiting for a reconcile pass, and returns only once the new
// device's entries are programmed from the plan (the device listeners'
// incremental pass), so the workload can reach every remote endpoint the
// moment its attach returns. Device work on one network is
// serialised, so a removal of an idle network's device cannot interleave
// with an attach that is bringing it back.
import { inject, injectable } from 'inversify';
import type { PlanNetwork } from '../../model/agent-protocol.js';
import { WeftError, errorMessage, isWeftError } from '../../model/errors.js';
import { AGENT_LOGGER, HOST_HANDLE, type AgentLogger } from '../agent-config.js';
import { BridgeManager } from '../bridges/bridge-manager.js';
import { isAlreadyExists, isUnsupported } from '../datapath/errors.js';
import type { LinkInfo, NetnsHandle, VxlanSpec } from '../datapath/port.js';
import { KeyedMutex } from '../endpoints/keyed-mutex.js';
import type { LinkRef } from '../reconcile/host-diff.js';
import { vxlanAlias, vxlanAliasNetwork, vxlanSpec, type OverlayEntryAction } from '../reconcile/overlay-diff.js';
import { Underlay } from './underlay.js';

interface CacheEntry {
  signature: string;
  /** undefined: no device (no VTEP address yet) */
  index: Promise<number | undefined>;
  /** Settles once the device listeners have programmed the device's entries (never rejects). */
  programmed: Promise<void>;
}

/**
 * Longest an attach waits for its new device's entries. The incremental pass
 * runs in the reconciler's loop, behind a full pass in progress; that pass
 * may wait for this attach's container lock (dropRecord, finishDelete), so
 * the wait must be bounded. Past it the entries still come, just later.
 */
const ENTRIES_WAIT_MS = 2000;

@injectable()
export class OverlayManager {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly locks = new KeyedMutex();
  /** Bridge-port neigh_suppress: probed on the first device, remembered when the kernel lacks it. */
  private neighSuppress: 'untested' | 'on' | 'unsupported' = 'untested';
  private noVtepWarned = false;
  private readonly deviceListeners = new Set<(network: string) => Promise<void> | void>();

  constructor(
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(BridgeManager) private readonly bridges: BridgeManager,
    @inject(Underlay) private readonly underlay: Underlay,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
  ) {}

  /**
   * Told after a device was made or checked (an attach, or a full pass):
   * its entries are then programmed by an incremental pass. The promise a
   * listener returns settles once they are; an attach that made the device
   * waits for it (see ensureNetwork).
   */
  onDevice(listener: (network: string) => Promise<void> | void): () => void {
    this.deviceListeners.add(listener);
    return () => this.deviceListeners.delete(listener);
  }

  /**
   * The attach path: the network's bridge (its ifindex is returned) and its
   * VXLAN device. A VXLAN failure does not fail the attach: the workload
   * works on this host at once, the reconciler retries the device and
   * reports the network not ready here meanwhile. When the device is new
   * (or re-checked), this waits until its FDB and neighbour entries are
   * programmed from the current plan: a first attach on a network is
   * reachable from, and reaches, every remote endpoint once it returns.
   */
  async ensureNetwork(network: PlanNetwork): Promise<number> {
    const bridge = await this.bridges.ensureBridge(network);
    try {
      const index = await this.ensureVxlan(network, bridge);
      if (index !== undefined) await this.entriesProgrammed(network.name);
    } catch (e: unknown) {
      this.log.error({ network: network.name, err: errorMessage(e) }, 'cannot set up the VXLAN device; the reconciler retries');
    }
    return bridge;
  }

  /** Wait (bounded) for the listeners' pass on the network's current device entry. */
  private async entriesProgrammed(network: string): Promise<void> {
    const hit = this.cache.get(network);
    if (!hit) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      hit.programmed.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), ENTRIES_WAIT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.log.warn({ network }, 'VXLAN entries not programmed in time; the attach returns, they follow');
  }

  /** The network's VXLAN device, created, adopted or fixed; undefined while no VTEP address is known and none exists. */
  ensureVxlan(network: PlanNetwork, bridgeIndex: number): Promise<number | undefined> {
    const vtep = this.underlay.current();
    const stamp = vtep ? vxlanAlias(network.name, vxlanSpec(network, vtep)) : 'no vtep';
    const signature = `${network.vxlan}|${network.mtu}|${bridgeIndex}|${stamp}`;
    const hit = this.cache.get(network.name);
    if (hit && hit.signature === signature) return hit.index;
    const index = this.locks.run(network.name, () => this.ensureUncached(network, bridgeIndex));
    const programmed = index.then(
      async (i) => {
        if (i === undefined) return;
        const passes = [...this.deviceListeners].map((l) => l(network.name));
        await Promise.allSettled(passes);
      },
      () => {
        // A failed ensure must not stay cached; the next caller tries again.
        if (this.cache.get(network.name) === entry) this.cache.delete(network.name);
      },
    );
    const entry: CacheEntry = { signature, index, programmed };
    this.cache.set(network.name, entry);
    return index;
  }

  /** The device's ifindex for entry work: the cached one, else read (undefined when absent). */
  async vxlanIndex(network: PlanNetwork): Promise<number | undefined> {
    const hit = this.cache.get(network.name);
    if (hit) {
      const index = await hit.index.catch(() => undefined);
      if (index !== undefined) return index;
    }
    const link = await this.host.getLink(network.vxlan);
    return link?.kind === 'vxlan' && vxlanAliasNetwork(link.alias) === network.name ? link.index : undefined;
  }

  /** Forget a network's device (and bridge): the next ensure reads the kernel again. */
  invalidate(network?: string): void {
    if (network === undefined) this.cache.clear();
    else this.cache.delete(network);
    this.bridges.invalidate(network);
  }

  /**
   * Remove the device of a network this host no longer carries, unless
   * `stillUnwanted` says otherwise by the time the network's lock is ours
   * (an attach may have started meanwhile). Tolerates absence.
   */
  async removeVxlan(network: string, link: LinkRef, stillUnwanted: () => boolean): Promise<void> {
    await this.locks.run(network, async () => {
      if (!stillUnwanted()) return;
      this.cache.delete(network);
      try {
        await this.host.removeLink(link.index);
      } catch (e: unknown) {
        throw new WeftError('Datapath', `remove vxlan "${link.name}" of network "${network}": ${errorMessage(e)}`, { cause: e });
      }
    });
  }

  /** One FDB or neighbour change on the device at `index`. */
  async applyEntry(a: OverlayEntryAction, index: number): Promise<void> {
    switch (a.op) {
      case 'fdbAdd':
        for (const dst of a.evict) await this.host.fdbDel({ index, mac: a.mac, dst, permanent: true });
        await this.host.fdbAppend({ index, mac: a.mac, dst: a.dst, permanent: true });
        return;
      case 'fdbDel':
        await this.host.fdbDel({ index, mac: a.mac, dst: a.dst, permanent: true });
        return;
      case 'neighReplace':
        await this.host.neighReplace({ index, ip: a.ip, mac: a.mac, permanent: true });
        return;
      case 'neighDel':
        await this.host.neighDel({ index, ip: a.ip });
        return;
    }
  }

  private async ensureUncached(network: PlanNetwork, bridgeIndex: number): Promise<number | undefined> {
    const name = network.vxlan;
    const vtep = this.underlay.current();
    const spec = vtep && vxlanSpec(network, vtep);
    const alias = spec && vxlanAlias(network.name, spec);
    let step = 'read';
    try {
      let link = await this.host.getLink(name);
      if (link) this.checkOwnership(link, network);
      if (link && alias !== undefined && link.alias !== alias) {
        // VNI, local address, port and lower device are fixed at create: a
        // device made for another underlay (or half-made, without its
        // stamp) is replaced.
        step = 'replace';
        await this.host.removeLink(link.index);
        link = undefined;
      }
      if (!link) {
        if (!spec) {
          if (!this.noVtepWarned) this.log.warn({ network: network.name }, 'underlay address unknown yet; VXLAN devices wait for it');
          this.noVtepWarned = true;
          return undefined;
        }
        step = 'create';
        link = await this.create(spec, network);
      }
      if (alias !== undefined && link.alias !== alias) {
        step = 'set alias';
        await this.host.setLinkAlias(link.index, alias);
      }
      if (link.mtu !== network.mtu) {
        step = 'set mtu';
        await this.host.setLinkMtu(link.index, network.mtu);
      }
      if (link.master !== bridgeIndex) {
        step = 'set master';
        await this.host.setLinkMaster(link.index, bridgeIndex);
      }
      await this.suppressNeighbours(link);
      if (!link.up) {
        step = 'set up';
        await this.host.setLinkUp(link.index);
      }
      return link.index;
    } catch (e: unknown) {
      if (isWeftError(e)) throw e;
      throw new WeftError('Datapath', `ensure vxlan "${name}" of network "${network.name}": ${step}: ${errorMessage(e)}`, { cause: e });
    }
  }

  private checkOwnership(link: LinkInfo, network: PlanNetwork): void {
    if (link.kind !== 'vxlan') {
      throw new WeftError('Conflict', `link "${link.name}" exists and is not a vxlan (kind ${link.kind ?? 'none'}); weft will not touch it`);
    }
    // No alias: ours, half-made by a crash between create and set-alias.
    if (link.alias && vxlanAliasNetwork(link.alias) !== network.name) {
      throw new WeftError('Conflict', `vxlan "${link.name}" belongs to ${JSON.stringify(link.alias)}, not network "${network.name}"`);
    }
  }

  private async create(spec: VxlanSpec, network: PlanNetwork): Promise<LinkInfo> {
    try {
      return await this.host.addVxlan(spec);
    } catch (e: unknown) {
      if (!isAlreadyExists(e)) throw e;
      // Made between our read and create (a concurrent ensure): adopt it if it is ours.
      const link = await this.host.getLink(spec.name);
      if (!link) throw e; // another device holds this VNI and port: not ours to take
      this.checkOwnership(link, network);
      return link;
    }
  }

  /**
   * ARP/ND suppression on the bridge port where the kernel has it; without
   * it the VXLAN driver's proxy answers ARP and IPv6 neighbour solicitations
   * from the neighbour entries, so neither crosses the underlay either way.
   * Not worth failing a device for.
   */
  private async suppressNeighbours(link: LinkInfo): Promise<void> {
    if (this.neighSuppress === 'unsupported') return;
    try {
      await this.host.setBridgePortNeighSuppress(link.index, true);
      this.neighSuppress = 'on';
    } catch (e: unknown) {
      if (isUnsupported(e)) {
        this.neighSuppress = 'unsupported';
        this.log.info('bridge-port neigh_suppress not supported by this kernel; ARP is answered by the VXLAN proxy');
        return;
      }
      this.log.warn({ vxlan: link.name, err: errorMessage(e) }, 'cannot turn on bridge-port neigh_suppress');
    }
  }
}
