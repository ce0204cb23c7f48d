// The agent's side of the Firewall VNF: makes the host have what
// vnf/firewall/render-firewall.ts says each planned firewall needs, and
// nothing of firewalls it no longer plans. Called by the reconciler's full
// pass (after bridges and VXLAN devices), so passes never overlap.
//
// Order for one firewall, chosen so that no packet is ever forwarded
// unfiltered: namespace -> nft table (applied whole, atomically) ->
// forwarding on -> interfaces. A namespace whose table cannot be applied
// gets no forwarding and no interfaces. A restarted agent adopts what it
// finds: the namespace, its table and its interfaces stay in force while
// the agent is down, and the first pass replaces the table in one
// transaction (counters restart at zero then). Removal goes the other way:
// the veths first (no traffic reaches the namespace any more), then the
// namespace with everything in it.
//
// Everything is found again by name: namespaces `wfw.<host>.<name>`
// (only this host's are swept), host-side veths `wf-*` with the alias
// `weft:fw:<name>/<network>`.
import { inject, injectable, optional } from 'inversify';
import type { HostPlan, PlanNetwork } from '../../model/agent-protocol.js';
import { WeftError, errorMessage } from '../../model/errors.js';
import { FIREWALL_PORT_TABLE, FIREWALL_VETH_PREFIX, FIREWALL_VNF_TABLE, parseFirewallAlias, parseFirewallNetnsName } from '../../model/vnf-names.js';
import type { FirewallVnfReport } from '../../model/vnf-protocol.js';
import { renderFirewallVnf, type FirewallInterfaceWant, type FirewallVnfWant } from '../../vnf/firewall/render-firewall.js';
import { PORT_TABLE_FAMILY, renderPortTable, renderPortTableRemoval } from '../../vnf/firewall/render-port-table.js';
import { readFirewallCounters } from '../../vnf/firewall/read-counters.js';
import { AGENT_LOGGER, HOST_HANDLE, type AgentLogger } from '../agent-config.js';
import { BridgeManager } from '../bridges/bridge-manager.js';
import { NETNS_RUN_DIR } from '../datapath/netlink/netns.js';
import { DATAPATH_FACTORY, type DatapathFactory, type LinkInfo, type NetnsHandle } from '../datapath/port.js';
import type { NftDocument } from '../datapath/nft/nft-json.js';
import { NftRunner } from '../datapath/nft/nft-runner.js';

/** The loopback device is the first registered in every network namespace. */
const LOOPBACK_IFINDEX = 1;

/** The nft verbs the firewall host uses, in one namespace. */
export interface VnfNft {
  apply(doc: NftDocument): Promise<void>;
  /** the table's objects, or undefined when it does not exist */
  list(table: string, family?: 'inet' | 'bridge'): Promise<readonly unknown[] | undefined>;
}

export type VnfNftFactory = (netnsPath: string) => VnfNft;
export const VNF_NFT_FACTORY = Symbol.for('weft.VnfNftFactory');
/** nft in the agent's host namespace (the bridges' namespace), for the firewalls' port table. */
export const VNF_HOST_NFT = Symbol.for('weft.VnfHostNft');

/** What the firewall host needs of the bridges: the network's bridge, made or adopted (BridgeManager). */
export type BridgeEnsurer = Pick<BridgeManager, 'ensureBridge'>;

/** The networks this host's firewalls have interfaces on: the host carries them (bridge, VXLAN device). */
export function firewallVnfNetworks(plan: HostPlan | undefined): Set<string> {
  return new Set((plan?.firewallVnfs ?? []).flatMap((f) => f.interfaces.map((i) => i.network)));
}

const netnsPath = (name: string) => `${NETNS_RUN_DIR}/${name}`;

@injectable()
export class FirewallVnfHost {
  private readonly nft: VnfNftFactory;
  /** firewall -> the table document last applied (JSON), so an unchanged table is not re-applied */
  private readonly applied = new Map<string, string>();
  /** the host namespace's port table: applied by this process (true), removed (false), unknown (undefined) */
  private portTable: boolean | undefined;
  private reportsByName: Record<string, FirewallVnfReport> = {};
  /** what each reported firewall's table enforces, for re-reading its counters between passes */
  private models = new Map<string, { netns: string; model: FirewallVnfWant['model'] }>();

  constructor(
    @inject(DATAPATH_FACTORY) private readonly datapath: DatapathFactory,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(BridgeManager) private readonly bridges: BridgeEnsurer,
    @inject(AGENT_LOGGER) private readonly log: Pick<AgentLogger, 'info' | 'error'>,
    @inject(VNF_NFT_FACTORY) @optional() nft?: VnfNftFactory,
    @inject(VNF_HOST_NFT) @optional() private readonly hostNft?: VnfNft,
  ) {
    this.nft = nft ?? ((path) => new NftRunner({ netns: path }));
  }

  /** The last sync's outcome per planned firewall (the agent's status carries it). */
  reports(): Record<string, FirewallVnfReport> {
    return { ...this.reportsByName };
  }

  /** Re-read the counters of the firewalls the last sync realised; true when any moved. */
  async refreshCounters(): Promise<boolean> {
    let moved = false;
    for (const [name, { netns, model }] of this.models) {
      const report = this.reportsByName[name];
      if (!report) continue;
      const listing = await this.nft(netnsPath(netns)).list(FIREWALL_VNF_TABLE);
      if (listing === undefined) continue;
      const counters = readFirewallCounters(listing, model);
      if (JSON.stringify(counters) === JSON.stringify(report.counters)) continue;
      // A pass may have replaced the report meanwhile: only the counters of the one read are updated.
      if (this.reportsByName[name] === report) this.reportsByName[name] = { ...report, counters };
      moved = true;
    }
    return moved;
  }

  /**
   * Bring this host's firewalls in line with the plan: ensure each planned
   * one, remove every other firewall of this host. One firewall's failure
   * does not stop the others; it is reported and retried on the next pass.
   */
  async sync(plan: HostPlan): Promise<void> {
    const wanted = new Map((plan.firewallVnfs ?? []).map((f) => [f.name, f]));
    const reports: Record<string, FirewallVnfReport> = {};
    const models = new Map<string, { netns: string; model: FirewallVnfWant['model'] }>();
    let portProblem: string | undefined;
    if (wanted.size > 0) {
      // Before any firewall port exists: see vnf/firewall/render-port-table.ts.
      try {
        await this.ensurePortTable();
      } catch (e: unknown) {
        portProblem = `host port table: ${errorMessage(e)}`;
        this.log.error({ err: errorMessage(e) }, 'cannot write the firewall port table in the host namespace');
      }
    }
    for (const fw of wanted.values()) {
      const want = renderFirewallVnf(fw);
      try {
        reports[fw.name] = await this.ensure(want, plan);
        models.set(fw.name, { netns: want.netns, model: want.model });
        if (portProblem !== undefined) reports[fw.name] = { ...(reports[fw.name] as FirewallVnfReport), ready: false, message: portProblem };
      } catch (e: unknown) {
        this.log.error({ firewall: fw.name, err: errorMessage(e) }, 'firewall VNF not realised');
        reports[fw.name] = { generation: fw.generation, ready: false, interfaces: [], counters: [], message: errorMessage(e) };
      }
    }
    this.reportsByName = reports;
    this.models = models;
    await this.sweep(plan.host, new Set([...wanted.values()].map((f) => f.netns)), new Set(wanted.keys()));
    if (wanted.size === 0) await this.removePortTable();
  }

  private async ensurePortTable(): Promise<void> {
    if (!this.hostNft) return;
    if (this.portTable === true && (await this.hostNft.list(FIREWALL_PORT_TABLE, PORT_TABLE_FAMILY)) !== undefined) return;
    await this.hostNft.apply(renderPortTable());
    this.portTable = true;
  }

  /** After the last firewall's ports are gone. */
  private async removePortTable(): Promise<void> {
    if (!this.hostNft || this.portTable === false) return;
    await this.hostNft.apply(renderPortTableRemoval());
    this.portTable = false;
  }

  /** Remove one firewall's kernel objects: its veths, then its namespace. Tolerates absence. */
  async remove(firewall: string, netns: string): Promise<void> {
    for (const l of await this.host.listLinks()) {
      if (l.name.startsWith(FIREWALL_VETH_PREFIX) && parseFirewallAlias(l.alias)?.firewall === firewall) await this.host.removeLink(l.index);
    }
    await this.datapath.deleteNamedNetns(netns);
    this.applied.delete(firewall);
    this.log.info({ firewall, netns }, 'firewall VNF removed');
  }

  /**
   * /run/netns is machine-wide: a namespace named for this host is removed
   * only when it is provably this agent's (its veths hang on our bridges),
   * or holds no interface at all (half-made). Another agent that was given
   * the same host name (a misconfiguration, or two labs on one machine)
   * keeps its firewalls.
   */
  private async sweep(host: string, keepNetns: Set<string>, keepFirewalls: Set<string>): Promise<void> {
    const ours = new Set<string>();
    for (const l of await this.host.listLinks()) {
      const owner = l.name.startsWith(FIREWALL_VETH_PREFIX) ? parseFirewallAlias(l.alias) : undefined;
      if (owner) ours.add(owner.firewall);
    }
    for (const name of await this.datapath.listNamedNetns()) {
      const firewall = parseFirewallNetnsName(host, name);
      if (firewall === undefined || keepNetns.has(name)) continue;
      try {
        if (!ours.has(firewall) && (await this.hasInterfaces(netnsPath(name)))) continue;
        await this.remove(firewall, name);
      } catch (e: unknown) {
        this.log.error({ firewall, err: errorMessage(e) }, 'removing firewall VNF failed');
      }
    }
    // Veths of firewalls this host no longer runs whose namespace is already gone (a removal cut short).
    for (const l of await this.host.listLinks()) {
      const owner = l.name.startsWith(FIREWALL_VETH_PREFIX) ? parseFirewallAlias(l.alias) : undefined;
      if (owner && !keepFirewalls.has(owner.firewall)) await this.host.removeLink(l.index);
    }
    for (const name of [...this.applied.keys()]) if (!keepFirewalls.has(name)) this.applied.delete(name);
  }

  private async hasInterfaces(path: string): Promise<boolean> {
    const ns = await this.datapath.at(path);
    try {
      return (await ns.listLinks()).some((l) => l.index !== LOOPBACK_IFINDEX);
    } finally {
      ns.close();
    }
  }

  private async ensure(want: FirewallVnfWant, plan: HostPlan): Promise<FirewallVnfReport> {
    const path = netnsPath(want.netns);
    if (!(await this.datapath.listNamedNetns()).includes(want.netns)) {
      await this.datapath.createNamedNetns(want.netns);
      this.applied.delete(want.name);
      this.log.info({ firewall: want.name, netns: want.netns }, 'firewall VNF namespace created');
    }
    const nft = this.nft(path);
    const ns = await this.datapath.at(path);
    try {
      // 1. the table: before forwarding and before any interface exists
      const doc = JSON.stringify(want.nft);
      let listing = await nft.list(FIREWALL_VNF_TABLE);
      if (listing === undefined || this.applied.get(want.name) !== doc) {
        await nft.apply(want.nft);
        this.applied.set(want.name, doc);
        listing = await nft.list(FIREWALL_VNF_TABLE);
      }
      // 2. forwarding inside this namespace only
      for (const [key, value] of Object.entries(want.sysctls)) await ns.setSysctl(key, value);
      await ns.setLinkUp(LOOPBACK_IFINDEX);
      // 3. interfaces
      const problems: string[] = [];
      const networks = new Map(plan.networks.map((n) => [n.name, n]));
      for (const i of want.interfaces) {
        try {
          const net = networks.get(i.network);
          if (!net) throw new WeftError('NotFound', `network "${i.network}" is not in this host's plan`);
          await this.ensureInterface(want, i, net, path, ns);
        } catch (e: unknown) {
          problems.push(`interface on "${i.network}": ${errorMessage(e)}`);
        }
      }
      await this.removeStrays(want, ns);
      const report: FirewallVnfReport = {
        generation: want.generation,
        ready: problems.length === 0,
        interfaces: want.interfaces.map((i) => ({ network: i.network, ip: i.ip, mac: i.mac })),
        counters: readFirewallCounters(listing ?? [], want.model),
      };
      if (problems.length > 0) report.message = problems.join('; ');
      return report;
    } finally {
      ns.close();
    }
  }

  private async ensureInterface(want: FirewallVnfWant, i: FirewallInterfaceWant, net: PlanNetwork, path: string, ns: NetnsHandle): Promise<void> {
    const bridge = await this.bridges.ensureBridge(net);
    let hostLink = await this.host.getLink(i.hostIfname);
    let inner = await ns.getLink(i.ifname);
    if (hostLink) {
      const owner = parseFirewallAlias(hostLink.alias);
      if (hostLink.kind !== 'veth' || (hostLink.alias !== undefined && !(owner?.firewall === want.name && owner.network === i.network))) {
        throw new WeftError('Conflict', `link ${i.hostIfname} exists and belongs to ${JSON.stringify(hostLink.alias ?? hostLink.kind ?? 'someone else')}`);
      }
      // Its peer must be our interface in our namespace (a namespace made anew leaves a dangling pair behind).
      if (!inner || hostLink.peerIndex !== inner.index) {
        await this.host.removeLink(hostLink.index);
        hostLink = undefined;
        inner = await ns.getLink(i.ifname);
      }
    }
    if (!hostLink) {
      if (inner) await ns.removeLink(inner.index);
      hostLink = await this.host.addVeth({
        name: i.hostIfname,
        mtu: i.mtu,
        master: bridge,
        up: true,
        peer: { name: i.ifname, netns: path, mac: i.mac, up: false },
      });
      inner = await ns.getLink(i.ifname);
      if (!inner) throw new Error(`${i.ifname} is missing in ${path} right after creating it`);
    }
    await this.repairHostSide(hostLink, i, bridge);
    await this.repairInside(inner as LinkInfo, i, ns);
  }

  private async repairHostSide(l: LinkInfo, i: FirewallInterfaceWant, bridge: number): Promise<void> {
    if (l.alias !== i.alias) await this.host.setLinkAlias(l.index, i.alias);
    if (l.mtu !== i.mtu) await this.host.setLinkMtu(l.index, i.mtu);
    if (l.master !== bridge) await this.host.setLinkMaster(l.index, bridge);
    if (!l.up) await this.host.setLinkUp(l.index);
  }

  private async repairInside(l: LinkInfo, i: FirewallInterfaceWant, ns: NetnsHandle): Promise<void> {
    if (l.mac.toLowerCase() !== i.mac) await ns.setLinkMac(l.index, i.mac);
    if (l.mtu !== i.mtu) await ns.setLinkMtu(l.index, i.mtu);
    let present = false;
    for (const a of await ns.listAddrs(l.index)) {
      if (a.family !== 4) continue;
      if (a.address === i.ip && a.prefixLength === i.prefixLength) present = true;
      else await ns.addrDel(l.index, a.address, a.prefixLength); // an address from an older plan
    }
    if (!present) await ns.addrAdd(l.index, i.ip, i.prefixLength);
    if (!l.up) await ns.setLinkUp(l.index);
  }

  /** Interfaces inside the namespace the firewall no longer has (a network it stopped guarding); their host sides go with them. */
  private async removeStrays(want: FirewallVnfWant, ns: NetnsHandle): Promise<void> {
    const keep = new Set(want.interfaces.map((i) => i.ifname));
    for (const l of await ns.listLinks()) {
      if (l.index !== LOOPBACK_IFINDEX && l.kind === 'veth' && !keep.has(l.name)) await ns.removeLink(l.index);
    }
  }
}
