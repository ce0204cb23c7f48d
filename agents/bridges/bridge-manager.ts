// ensureBridge: the network's bridge in the host namespace, with the owner
// alias, MTU, the anycast gateway MAC (the same on every host, so the
// gateway answers identically wherever a workload runs), the gateway
// address (and gateway6 on a dual-stack network, without DAD: the same
// address is on every host's bridge) and up. Cached per network so 50
// concurrent attaches cost one ensure; invalidated when the network's
// parameters change or the bridge is found missing.
import { inject, injectable, optional } from 'inversify';
import type { PlanNetwork } from '../../model/agent-protocol.js';
import { WeftError, errorMessage, isWeftError } from '../../model/errors.js';
import { canonicalIp6, prefixLength6 } from '../../model/dual-stack.js';
import { bridgeAlias, parseOwnerAlias } from '../../model/kernel-names.js';
import type { LinkInfo, NetnsHandle } from '../datapath/port.js';
import { HOST_HANDLE } from '../agent-config.js';
import { DatapathError, isAlreadyExists, isUnsupported } from '../datapath/errors.js';
import { ISOLATION_TABLE, type IsolationTable } from '../datapath/isolation-table-port.js';

interface CacheEntry {
  signature: string;
  index: Promise<number>;
}

const signatureOf = (n: PlanNetwork) => `${n.bridge}|${n.mtu}|${n.gatewayMac}|${n.gateway}/${n.prefixLength}|${n.gateway6 ?? ''}|${n.subnet6 ?? ''}`;

@injectable()
export class BridgeManager {
  private readonly cache = new Map<string, CacheEntry>();
  /** Bridges of the current plan: the isolation set (see IsolationTable). */
  private planBridges: string[] = [];

  constructor(
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(ISOLATION_TABLE) @optional() private readonly isolation?: IsolationTable,
  ) {}

  /**
   * Isolate the plan's networks from each other. Called by the reconciler on
   * every pass; a bridge must be in the set before it exists, so creation
   * below adds its own name first.
   */
  async isolate(bridges: string[]): Promise<void> {
    this.planBridges = [...bridges];
    await this.isolation?.applyIsolation(this.planBridges);
  }

  /** The bridge's ifindex, creating or adopting and fixing it as needed. */
  ensureBridge(network: PlanNetwork): Promise<number> {
    const signature = signatureOf(network);
    const hit = this.cache.get(network.name);
    if (hit && hit.signature === signature) return hit.index;
    const index = this.ensureUncached(network);
    const entry = { signature, index };
    this.cache.set(network.name, entry);
    // A failed ensure must not stay cached; the next attach tries again.
    index.catch(() => {
      if (this.cache.get(network.name) === entry) this.cache.delete(network.name);
    });
    return index;
  }

  invalidate(network?: string): void {
    if (network === undefined) this.cache.clear();
    else this.cache.delete(network);
  }

  /** Remove a bridge weft owns; tolerates absence. */
  async removeBridge(name: string, index: number, network?: string): Promise<void> {
    if (network !== undefined) this.invalidate(network);
    try {
      await this.host.removeLink(index);
    } catch (e: unknown) {
      throw new WeftError('Datapath', `remove bridge "${name}": ${errorMessage(e)}`, { cause: e });
    }
  }

  private async ensureUncached(network: PlanNetwork): Promise<number> {
    const name = network.bridge;
    const alias = bridgeAlias(network.name);
    let step = 'read';
    try {
      let link = await this.host.getLink(name);
      if (link) {
        this.checkOwnership(link, network);
      } else {
        step = 'create';
        link = await this.create(network, alias);
      }
      if (link.alias !== alias) {
        // IFLA_IFALIAS is ignored at create, and a crash may have left it unset.
        step = 'set alias';
        await this.host.setLinkAlias(link.index, alias);
      }
      if (link.mtu !== network.mtu) {
        step = 'set mtu';
        await this.host.setLinkMtu(link.index, network.mtu);
      }
      if (link.mac.toLowerCase() !== network.gatewayMac.toLowerCase()) {
        step = 'set gateway mac';
        await this.host.setLinkMac(link.index, network.gatewayMac);
      }
      step = 'set gateway address';
      await this.ensureGateway(link.index, network);
      if (!link.up) {
        step = 'set up';
        await this.host.setLinkUp(link.index);
      }
      return link.index;
    } catch (e: unknown) {
      if (isWeftError(e)) throw e;
      throw new WeftError('Datapath', `ensure bridge "${name}" of network "${network.name}": ${step}: ${errorMessage(e)}`, { cause: e });
    }
  }

  private checkOwnership(link: LinkInfo, network: PlanNetwork): void {
    if (link.kind !== 'bridge') {
      throw new WeftError('Conflict', `link "${link.name}" exists and is not a bridge (kind ${link.kind ?? 'none'}); weft will not touch it`);
    }
    const owner = parseOwnerAlias(link.alias);
    // No alias: ours, half-made by a crash between create and set-alias.
    if (link.alias && !(owner?.type === 'net' && owner.name === network.name)) {
      throw new WeftError('Conflict', `bridge "${link.name}" belongs to ${JSON.stringify(link.alias)}, not network "${network.name}"`);
    }
  }

  private async create(network: PlanNetwork, alias: string): Promise<LinkInfo> {
    if (this.isolation && !this.planBridges.includes(network.bridge)) {
      // Fail closed, except where the kernel or system has no nftables at
      // all: the reconciler reports that once, and networks still work.
      await this.isolation.applyIsolation([...this.planBridges, network.bridge]).catch((e: unknown) => {
        if (!isUnsupported(e)) throw e;
      });
    }
    try {
      return await this.host.addBridge({ name: network.bridge, mtu: network.mtu, alias, mac: network.gatewayMac });
    } catch (e: unknown) {
      if (!isAlreadyExists(e)) throw e;
      // Someone created it between our read and create: adopt it if it is ours.
      const link = await this.host.getLink(network.bridge);
      if (!link) throw e;
      this.checkOwnership(link, network);
      return link;
    }
  }

  private async ensureGateway(index: number, network: PlanNetwork): Promise<void> {
    const addrs = await this.host.listAddrs(index);
    const want6 = network.subnet6 !== undefined && network.gateway6 !== undefined ? { address: canonicalIp6(network.gateway6), prefixLength: prefixLength6(network.subnet6) } : undefined;
    let present = false;
    let present6 = false;
    for (const a of addrs) {
      if (a.family === 4) {
        if (a.address === network.gateway && a.prefixLength === network.prefixLength) present = true;
        else await this.host.addrDel(index, a.address, a.prefixLength); // a stale gateway from an older plan
      } else if (!a.address.toLowerCase().startsWith('fe80:')) {
        // The kernel's own link-local address stays; any other is a stale gateway6.
        if (want6 && canonicalIp6(a.address) === want6.address && a.prefixLength === want6.prefixLength) present6 = true;
        else await this.host.addrDel(index, a.address, a.prefixLength);
      }
    }
    if (!present) await this.host.addrAdd(index, network.gateway, network.prefixLength);
    if (want6 && !present6) {
      try {
        await this.host.addrAdd(index, want6.address, want6.prefixLength);
      } catch (e: unknown) {
        // The kernel refuses IPv6 addresses where IPv6 is disabled (EACCES): say where, and how to fix it.
        if (!(e instanceof DatapathError && e.errno === 'EACCES')) throw e;
        throw new WeftError('Invalid', `network "${network.name}" is dual-stack, but IPv6 is disabled on this host; enable it (sysctl net.ipv6.conf.all.disable_ipv6=0 and net.ipv6.conf.default.disable_ipv6=0) or remove subnet6 from the network`, { cause: e });
      }
    }
  }
}
