// The agent's side of every VNF, whatever its kind: makes the host have
// what each planned VNF's driver (vnf/KIND/, registered in vnf/drivers.ts)
// renders, and nothing of VNFs it no longer plans. It knows nothing of a
// kind's insides: a namespace, sysctls, interfaces, routes, one nft table
// and the processes to supervise are the same for every kind.
//
// Order for one VNF, chosen so that no packet is ever forwarded before the
// VNF's rules are in force: namespace -> nft table (applied whole,
// atomically) -> sysctls (forwarding) -> interfaces -> uplink or external
// interface -> routes -> processes. After every VNF: the host's uplink table (vnf/uplink-table.ts)
// for all uplinks at once, with IPv4 forwarding in the host namespace
// (uplinks are routed by the host; Docker turns it on for the same reason).
// A namespace whose table cannot be applied gets no forwarding and no
// interfaces. A restarted agent adopts what it finds: the namespace, its
// table, its interfaces and its processes stay in force while the agent is
// down; the first pass keeps a table loaded from the document it would load
// (vnf/table-marker.ts: counters go on) and replaces any other in one
// transaction. Removal goes the other way: processes, then the
// veths (no traffic reaches the namespace any more), then the namespace
// with everything in it.
//
// Everything is found again by name: namespaces `wn.<host>.<kind>.<name>`
// (only this host's are swept), host-side veths `wf-*` (ports) and `wu-*`
// (uplinks) with the alias `weft:vnf:<kind>/<name>/<network>`. An external
// interface (a macvlan on a host interface) lives inside the VNF's
// namespace only: a restarted agent adopts the one it finds there when it
// still sits on the wanted host interface, and it goes with the namespace.
// Whether that host interface exists only the agent can tell: a missing one
// makes the VNF not ready, with a message naming it and the host.
import { inject, injectable, optional } from 'inversify';
import type { HostPlan, PlanNetwork } from '../../model/agent-protocol.js';
import type { ConntrackEntry, ConntrackFilter } from '../../model/conntrack.js';
import { WeftError, errorMessage } from '../../model/errors.js';
import { weftLinkRole } from '../../model/host-objects.js';
import type { NftDocument } from '../../model/nft-json.js';
import { VNF_PORT_TABLE, VNF_UPLINK_ATTACHMENT, VNF_UPLINK_TABLE, isVnfHostLinkName, parseVnfAlias, parseVnfNetnsName, sameVnf } from '../../model/vnf-names.js';
import { vnfKey, type PlanVnf, type VnfKey, type VnfReport } from '../../model/vnf-protocol.js';
import { VNF_DRIVERS } from '../../vnf/drivers.js';
import { PORT_TABLE_FAMILY, renderPortTable, renderPortTableRemoval } from '../../vnf/port-table.js';
import { UPLINK_TABLE_FAMILY, renderUplinkTable, renderUplinkTableRemoval, type HostUplink } from '../../vnf/uplink-table.js';
import { hasTableMarker, tableMarker, withTableMarker } from '../../vnf/table-marker.js';
import type { VnfDriver, VnfExternalWant, VnfInterfaceWant, VnfNftWant, VnfUplinkWant, VnfWant } from '../../vnf/vnf-driver.js';
import { AGENT_LOGGER, HOST_HANDLE, type AgentLogger } from '../agent-config.js';
import { BridgeManager } from '../bridges/bridge-manager.js';
import { NETNS_RUN_DIR } from '../../model/kernel-names.js';
import { DATAPATH_FACTORY, LOOPBACK_IFINDEX, type DatapathFactory, type LinkInfo, type NetnsHandle } from '../datapath/port.js';
import { VnfProcesses } from './vnf-processes.js';

/** The nft verbs the VNF host uses, in one namespace. */
export interface VnfNft {
  apply(doc: NftDocument): Promise<void>;
  /** the table's objects, or undefined when it does not exist */
  list(table: string, family?: VnfNftWant['family']): Promise<readonly unknown[] | undefined>;
}

export type VnfNftFactory = (netnsPath: string) => VnfNft;
export const VNF_NFT_FACTORY = Symbol.for('weft.VnfNftFactory');
/** nft in the agent's host namespace (the bridges' namespace), for the VNFs' port table. */
export const VNF_HOST_NFT = Symbol.for('weft.VnfHostNft');
/** Reads a namespace's conntrack table (the real one: agents/datapath/netlink/conntrack-dump.ts); unbound in tests without a kernel. */
export type VnfConntrack = (netnsPath: string, filter: ConntrackFilter) => Promise<ConntrackEntry[]>;
export const VNF_CONNTRACK = Symbol.for('weft.VnfConntrack');
/** The drivers the host knows (vnf/drivers.ts; tests bind their own). */
const VNF_DRIVER_LIST = Symbol.for('weft.VnfDriverList');

/** What the VNF host needs of the bridges: the network's bridge, made or adopted (BridgeManager). */
export type BridgeEnsurer = Pick<BridgeManager, 'ensureBridge'>;

/** The networks this host's VNFs have interfaces on: the host carries them (bridge, VXLAN device). */
export function vnfNetworks(plan: HostPlan | undefined): Set<string> {
  return new Set((plan?.vnfs ?? []).flatMap((v) => v.interfaces.map((i) => i.network)));
}

const netnsPath = (name: string) => `${NETNS_RUN_DIR}/${name}`;

/** The uplink carries traffic routed by the host to and from its own interfaces: the usual Ethernet MTU. */
const UPLINK_MTU = 1500;

/** An agent on an injected datapath (tests) has no nftables: a VNF that needs a table says so. */
const noNft: VnfNftFactory = () => {
  const refuse = async (): Promise<never> => {
    throw new WeftError('Unsupported', 'this agent runs without nftables');
  };
  return { apply: refuse, list: refuse };
};

interface Realised {
  driver: VnfDriver;
  want: VnfWant;
}

@injectable()
export class VnfHost {
  private readonly drivers: ReadonlyMap<string, VnfDriver>;
  private readonly nft: VnfNftFactory;
  /** vnfKey -> the marker of the table document last applied or adopted (vnf/table-marker.ts), so an unchanged table is not re-applied */
  private readonly applied = new Map<string, string>();
  /** the host namespace's port table: applied by this process (true), removed (false), unknown (undefined) */
  private portTable: boolean | undefined;
  /** the host namespace's uplink table: the document this process applied, removed (null), unknown (undefined) */
  private uplinkTable: string | null | undefined;
  private reportsByKey = new Map<string, VnfReport>();
  /** what each realised VNF's driver rendered, for re-reading its counters between passes */
  private realised = new Map<string, Realised>();

  constructor(
    @inject(DATAPATH_FACTORY) private readonly datapath: DatapathFactory,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(BridgeManager) private readonly bridges: BridgeEnsurer,
    @inject(AGENT_LOGGER) private readonly log: Pick<AgentLogger, 'info' | 'error'>,
    @inject(VnfProcesses) private readonly processes: VnfProcesses,
    @inject(VNF_NFT_FACTORY) @optional() nft?: VnfNftFactory,
    @inject(VNF_HOST_NFT) @optional() private readonly hostNft?: VnfNft,
    @inject(VNF_DRIVER_LIST) @optional() drivers: readonly VnfDriver[] = VNF_DRIVERS,
    @inject(VNF_CONNTRACK) @optional() private readonly conntrack?: VnfConntrack,
  ) {
    this.drivers = new Map(drivers.map((d) => [d.kind, d]));
    this.nft = nft ?? noNft;
  }

  /** The last sync's outcome per planned VNF (the agent's status carries it), by kind/name. */
  reports(): VnfReport[] {
    return [...this.reportsByKey.values()];
  }

  /** Re-read the counters and connections of the VNFs the last sync realised; true when any moved. */
  async refreshCounters(): Promise<boolean> {
    let moved = false;
    for (const [key, { driver, want }] of this.realised) {
      const report = this.reportsByKey.get(key);
      if (!report || (!driver.readCounters && !driver.readConnections)) continue;
      const counters = await this.readCounters(driver, want);
      const connections = await this.readConnections(driver, want);
      const next = { ...report };
      if (counters !== undefined) next.counters = counters;
      // Unread (the table could not be read): no listing rather than a stale one.
      if (connections === undefined) delete next.connections;
      else next.connections = connections;
      if (JSON.stringify([next.counters, next.connections]) === JSON.stringify([report.counters, report.connections])) continue;
      // A pass may have replaced the report meanwhile: only the one read is updated.
      if (this.reportsByKey.get(key) === report) this.reportsByKey.set(key, next);
      moved = true;
    }
    return moved;
  }

  private async readCounters(driver: VnfDriver, want: VnfWant, listing?: readonly unknown[]): Promise<VnfReport['counters']> {
    if (!driver.readCounters) return undefined;
    const nft = want.nft ? (listing ?? (await this.nft(netnsPath(want.netns)).list(want.nft.table, want.nft.family))) : undefined;
    if (want.nft && nft === undefined) return undefined;
    return driver.readCounters(nft === undefined ? {} : { nft }, want.model);
  }

  /**
   * The connections the driver lists, when it asked for conntrack
   * (want.observeConntrack); undefined when it did not or the table cannot
   * be read. Read between passes only (refreshCounters), never in a pass:
   * a busy table must not hold up a change on its way to the kernel.
   */
  private async readConnections(driver: VnfDriver, want: VnfWant): Promise<VnfReport['connections']> {
    if (!driver.readConnections || !want.observeConntrack || !this.conntrack) return undefined;
    try {
      return driver.readConnections(await this.conntrack(netnsPath(want.netns), want.observeConntrack), want.model);
    } catch (e: unknown) {
      // A listing is a view: the VNF works without it, and the next read may succeed.
      this.log.error({ vnf: vnfKey(want), err: errorMessage(e) }, 'could not read the connections of a VNF');
      return undefined;
    }
  }

  /**
   * Bring this host's VNFs in line with the plan: ensure each planned one,
   * remove every other VNF of this host. One VNF's failure does not stop
   * the others; it is reported and retried on the next pass.
   */
  async sync(plan: HostPlan): Promise<void> {
    const wanted = new Map(plan.vnfs.map((v) => [vnfKey(v), v]));
    const reports = new Map<string, VnfReport>();
    const realised = new Map<string, Realised>();
    let portProblem: string | undefined;
    if (wanted.size > 0) {
      // Before any VNF port exists: see vnf/port-table.ts.
      try {
        await this.ensurePortTable();
      } catch (e: unknown) {
        portProblem = `host port table: ${errorMessage(e)}`;
        this.log.error({ err: errorMessage(e) }, 'cannot write the VNF port table in the host namespace');
      }
    }
    for (const [key, vnf] of wanted) {
      const failed = (message: string): VnfReport => ({ kind: vnf.kind, name: vnf.name, generation: vnf.generation, ready: false, interfaces: [], message });
      const driver = this.drivers.get(vnf.kind);
      if (!driver) {
        reports.set(key, failed(`this agent has no driver for VNF kind "${vnf.kind}"`));
        continue;
      }
      try {
        const want = driver.render(vnf, { runDir: this.processes.runDir(vnf.netns) });
        let report = await this.ensure(driver, want, plan);
        realised.set(key, { driver, want });
        if (portProblem !== undefined) report = { ...report, ready: false, message: portProblem };
        reports.set(key, report);
      } catch (e: unknown) {
        this.log.error({ vnf: key, err: errorMessage(e) }, 'VNF not realised');
        reports.set(key, failed(errorMessage(e)));
      }
    }
    await this.syncUplinkTable(realised, reports);
    this.reportsByKey = reports;
    this.realised = realised;
    await this.sweep(plan.host, [...wanted.values()]);
    if (wanted.size === 0) await this.removePortTable();
  }

  /**
   * The host's part of every uplink at once: forwarding and the uplink
   * table while any exists, the table removed with the last. A failure
   * marks the VNFs with uplinks not ready (their way out is not there).
   */
  private async syncUplinkTable(realised: ReadonlyMap<string, Realised>, reports: Map<string, VnfReport>): Promise<void> {
    if (!this.hostNft) return;
    const uplinks: HostUplink[] = [];
    for (const { want } of realised.values()) if (want.uplink) uplinks.push({ ip: want.uplink.ip, publish: want.uplink.publish });
    try {
      if (uplinks.length === 0) {
        // Unknown after a restart: removed only when it is there (most hosts never had one).
        const present = this.uplinkTable === undefined ? (await this.hostNft.list(VNF_UPLINK_TABLE, UPLINK_TABLE_FAMILY)) !== undefined : this.uplinkTable !== null;
        if (present) await this.hostNft.apply(renderUplinkTableRemoval());
        this.uplinkTable = null;
        return;
      }
      await this.host.setSysctl('net.ipv4.ip_forward', '1');
      const doc = renderUplinkTable(uplinks);
      const text = JSON.stringify(doc);
      if (this.uplinkTable !== text || (await this.hostNft.list(VNF_UPLINK_TABLE, UPLINK_TABLE_FAMILY)) === undefined) await this.hostNft.apply(doc);
      this.uplinkTable = text;
    } catch (e: unknown) {
      this.uplinkTable = undefined;
      this.log.error({ err: errorMessage(e) }, 'cannot write the VNF uplink table in the host namespace');
      for (const [key, { want }] of realised) {
        const report = reports.get(key);
        if (want.uplink && report) reports.set(key, { ...report, ready: false, message: `host uplink table: ${errorMessage(e)}` });
      }
    }
  }

  private async ensurePortTable(): Promise<void> {
    if (!this.hostNft) return;
    if (this.portTable === true && (await this.hostNft.list(VNF_PORT_TABLE, PORT_TABLE_FAMILY)) !== undefined) return;
    await this.hostNft.apply(renderPortTable());
    this.portTable = true;
  }

  /** After the last VNF's ports are gone. */
  private async removePortTable(): Promise<void> {
    if (!this.hostNft || this.portTable === false) return;
    await this.hostNft.apply(renderPortTableRemoval());
    this.portTable = false;
  }

  /** Remove one VNF's kernel objects and processes: processes, its veths, then its namespace. Tolerates absence. */
  private async remove(vnf: VnfKey, netns: string): Promise<void> {
    await this.processes.stopAll(netns);
    for (const l of await this.host.listLinks()) {
      const owner = isVnfHostLinkName(l.name) ? parseVnfAlias(l.alias) : undefined;
      if (owner && sameVnf(owner, vnf)) await this.host.removeLink(l.index);
    }
    await this.datapath.deleteNamedNetns(netns);
    this.applied.delete(vnfKey(vnf));
    this.log.info({ vnf: vnfKey(vnf), netns }, 'VNF removed');
  }

  /**
   * /run/netns is machine-wide: a namespace named for this host is removed
   * only when it is provably this agent's (its veths hang on our bridges),
   * or holds no interface at all (half-made). Another agent that was given
   * the same host name (a misconfiguration, or two labs on one machine)
   * keeps its VNFs.
   */
  private async sweep(host: string, keep: readonly PlanVnf[]): Promise<void> {
    const keepNetns = new Set(keep.map((v) => v.netns));
    const kept = (owner: VnfKey) => keep.some((v) => sameVnf(v, owner));
    const ours: VnfKey[] = [];
    for (const l of await this.host.listLinks()) {
      const owner = isVnfHostLinkName(l.name) ? parseVnfAlias(l.alias) : undefined;
      if (owner) ours.push(owner);
    }
    for (const name of await this.datapath.listNamedNetns()) {
      const vnf = parseVnfNetnsName(host, name);
      if (vnf === undefined || keepNetns.has(name)) continue;
      try {
        if (!ours.some((o) => sameVnf(o, vnf)) && (await this.hasInterfaces(netnsPath(name)))) continue;
        await this.remove(vnf, name);
      } catch (e: unknown) {
        this.log.error({ vnf: vnfKey(vnf), err: errorMessage(e) }, 'removing VNF failed');
      }
    }
    // Veths of VNFs this host no longer runs whose namespace is already gone (a removal cut short).
    for (const l of await this.host.listLinks()) {
      const owner = isVnfHostLinkName(l.name) ? parseVnfAlias(l.alias) : undefined;
      if (owner && !kept(owner)) await this.host.removeLink(l.index);
    }
    const keys = new Set(keep.map(vnfKey));
    for (const key of [...this.applied.keys()]) if (!keys.has(key)) this.applied.delete(key);
  }

  private async hasInterfaces(path: string): Promise<boolean> {
    const ns = await this.datapath.at(path);
    try {
      return (await ns.listLinks()).some((l) => l.index !== LOOPBACK_IFINDEX);
    } finally {
      ns.close();
    }
  }

  private async ensure(driver: VnfDriver, want: VnfWant, plan: HostPlan): Promise<VnfReport> {
    const key = vnfKey(want);
    const path = netnsPath(want.netns);
    if (!(await this.datapath.listNamedNetns()).includes(want.netns)) {
      await this.datapath.createNamedNetns(want.netns);
      this.applied.delete(key);
      this.log.info({ vnf: key, netns: want.netns }, 'VNF namespace created');
    }
    const ns = await this.datapath.at(path);
    try {
      // 1. the table: before forwarding and before any interface exists
      let listing: readonly unknown[] | undefined;
      if (want.nft) {
        const nft = this.nft(path);
        const marker = tableMarker(want.nft.document);
        listing = await nft.list(want.nft.table, want.nft.family);
        // Loaded by this process, or (after a restart) carrying the mark of this very document: adopted as it is.
        const current = listing !== undefined && (this.applied.get(key) === marker || hasTableMarker(listing, marker));
        if (!current) {
          await nft.apply(withTableMarker(want.nft.document, want.nft.family, want.nft.table, marker));
          listing = await nft.list(want.nft.table, want.nft.family);
        }
        this.applied.set(key, marker);
      }
      // 2. sysctls (forwarding) inside this namespace only
      for (const [k, value] of Object.entries(want.sysctls)) await ns.setSysctl(k, value);
      await ns.setLinkUp(LOOPBACK_IFINDEX);
      // 3. interfaces
      const problems: string[] = [];
      const networks = new Map(plan.networks.map((n) => [n.name, n]));
      const inner = new Map<string, number>();
      for (const i of want.interfaces) {
        try {
          const net = networks.get(i.network);
          if (!net) throw new WeftError('NotFound', `network "${i.network}" is not in this host's plan`);
          inner.set(i.network, await this.ensureInterface(want, i, net, path, ns));
        } catch (e: unknown) {
          problems.push(`interface on "${i.network}": ${errorMessage(e)}`);
        }
      }
      // 4. the uplink (before the routes: the default route goes through it)
      if (want.uplink) {
        try {
          await this.ensureUplink(want, want.uplink, path, ns);
        } catch (e: unknown) {
          problems.push(`uplink: ${errorMessage(e)}`);
        }
      }
      if (want.external) {
        try {
          await this.ensureExternal(want.external, plan.host, path, ns);
        } catch (e: unknown) {
          problems.push(`external interface: ${errorMessage(e)}`);
        }
      }
      await this.removeStrays(want, ns);
      // 5. routes, 6. processes
      try {
        await this.syncRoutes(want, ns);
      } catch (e: unknown) {
        problems.push(`routes: ${errorMessage(e)}`);
      }
      problems.push(...(await this.processes.sync(want)));
      const report: VnfReport = {
        kind: want.kind,
        name: want.name,
        generation: want.generation,
        ready: problems.length === 0,
        interfaces: want.interfaces.map((i) => ({ network: i.network, ip: i.ip, mac: i.mac })),
      };
      const counters = await this.readCounters(driver, want, listing ?? []);
      if (counters !== undefined) report.counters = counters;
      if (problems.length > 0) report.message = problems.join('; ');
      return report;
    } finally {
      ns.close();
    }
  }

  /** The interface made, adopted or repaired; returns its ifindex inside the namespace. */
  private async ensureInterface(want: VnfWant, i: VnfInterfaceWant, net: PlanNetwork, path: string, ns: NetnsHandle): Promise<number> {
    const bridge = await this.bridges.ensureBridge(net);
    const { hostLink, inner } = await this.ensurePair(want, { hostIfname: i.hostIfname, ifname: i.ifname, network: i.network, mtu: i.mtu, master: bridge, mac: i.mac }, path, ns);
    await this.repairHostSide(hostLink, i, bridge);
    await this.repairInside(inner, i, ns);
    return inner.index;
  }

  /** The uplink made, adopted or repaired: a veth on no bridge, an address at each end, both up. */
  private async ensureUplink(want: VnfWant, u: VnfUplinkWant, path: string, ns: NetnsHandle): Promise<void> {
    const { hostLink, inner } = await this.ensurePair(want, { hostIfname: u.hostIfname, ifname: u.ifname, network: VNF_UPLINK_ATTACHMENT, mtu: UPLINK_MTU }, path, ns);
    if (hostLink.alias !== u.alias) await this.host.setLinkAlias(hostLink.index, u.alias);
    if (!hostLink.up) await this.host.setLinkUp(hostLink.index);
    await this.ensureOnlyAddress(this.host, hostLink.index, u.hostIp, u.prefixLength);
    await this.ensureOnlyAddress(ns, inner.index, u.ip, u.prefixLength);
    if (!inner.up) await ns.setLinkUp(inner.index);
  }

  /**
   * The external interface made, adopted or repaired: a macvlan on the host
   * interface, made directly inside the namespace; its address, the extra
   * /32s and nothing else; up. One sitting on another host interface (the
   * spec moved) is replaced.
   */
  private async ensureExternal(x: VnfExternalWant, hostName: string, path: string, ns: NetnsHandle): Promise<void> {
    const parent = await this.host.getLink(x.parent);
    let inner = await ns.getLink(x.ifname);
    if (!parent) {
      if (inner) await ns.removeLink(inner.index);
      throw new WeftError('NotFound', `host interface "${x.parent}" does not exist on host "${hostName}": the router has no way out; create it there, or set external.interface to one that exists (ip link on the host lists them)`);
    }
    const role = weftLinkRole(parent);
    if (role !== undefined) throw new WeftError('Conflict', `host interface "${x.parent}" on host "${hostName}" is weft's own (a ${role}): the way out must sit on an interface outside weft; set external.interface to another one`);
    // The router would answer ARP for an address the host holds, pulling the host's own traffic (its VTEP's among it) into the router.
    const hostAddrs = new Set((await this.host.listAddrs()).filter((a) => a.family === 4).map((a) => a.address));
    const taken = [x.ip, ...x.extraIps].filter((ip) => hostAddrs.has(ip));
    if (taken.length > 0) {
      if (inner) await ns.removeLink(inner.index);
      throw new WeftError('Conflict', `${taken.join(', ')} ${taken.length === 1 ? 'is an address' : 'are addresses'} of host "${hostName}" itself: the router's address and floating IPs must be free addresses of the segment; choose others`);
    }
    if (inner && (inner.kind !== 'macvlan' || inner.lowerIndex !== parent.index)) {
      await ns.removeLink(inner.index);
      inner = undefined;
    }
    if (!inner) {
      await this.host.addMacvlan({ name: x.ifname, parent: parent.index, netns: path, mac: x.mac });
      inner = await ns.getLink(x.ifname);
      if (!inner) throw new Error(`${x.ifname} is missing in ${path} right after creating it`);
    }
    if (inner.alias !== x.alias) await ns.setLinkAlias(inner.index, x.alias);
    if (inner.mac.toLowerCase() !== x.mac) await ns.setLinkMac(inner.index, x.mac);
    await this.ensureOnlyAddresses(ns, inner.index, new Map([[x.ip, x.prefixLength], ...x.extraIps.map((ip) => [ip, 32] as [string, number])]));
    if (!inner.up) await ns.setLinkUp(inner.index);
  }

  /**
   * One veth pair of the VNF, made or adopted: the host side must be ours
   * (this VNF's, for `network`) and its peer our interface in our namespace
   * (a namespace made anew leaves a dangling pair behind: it is replaced).
   */
  private async ensurePair(
    want: VnfWant,
    p: { hostIfname: string; ifname: string; network: string; mtu: number; master?: number; mac?: string },
    path: string,
    ns: NetnsHandle,
  ): Promise<{ hostLink: LinkInfo; inner: LinkInfo }> {
    let hostLink = await this.host.getLink(p.hostIfname);
    let inner = await ns.getLink(p.ifname);
    if (hostLink) {
      const owner = parseVnfAlias(hostLink.alias);
      if (hostLink.kind !== 'veth' || (hostLink.alias !== undefined && !(owner && sameVnf(owner, want) && owner.network === p.network))) {
        throw new WeftError('Conflict', `link ${p.hostIfname} exists and belongs to ${JSON.stringify(hostLink.alias ?? hostLink.kind ?? 'someone else')}`);
      }
      if (!inner || hostLink.peerIndex !== inner.index) {
        await this.host.removeLink(hostLink.index);
        hostLink = undefined;
        inner = await ns.getLink(p.ifname);
      }
    }
    if (!hostLink) {
      if (inner) await ns.removeLink(inner.index);
      const peer = { name: p.ifname, netns: path, up: false, ...(p.mac === undefined ? {} : { mac: p.mac }) };
      hostLink = await this.host.addVeth({ name: p.hostIfname, mtu: p.mtu, up: true, peer, ...(p.master === undefined ? {} : { master: p.master }) });
      inner = await ns.getLink(p.ifname);
      if (!inner) throw new Error(`${p.ifname} is missing in ${path} right after creating it`);
    }
    return { hostLink, inner: inner as LinkInfo };
  }

  /** `ip`/`prefixLength` is the link's one IPv4 address (an older plan's goes). */
  private ensureOnlyAddress(h: NetnsHandle, index: number, ip: string, prefixLength: number): Promise<void> {
    return this.ensureOnlyAddresses(h, index, new Map([[ip, prefixLength]]));
  }

  /** The link's IPv4 addresses are exactly `wanted` (address -> prefix length): others removed, missing ones added. */
  private async ensureOnlyAddresses(h: NetnsHandle, index: number, wanted: ReadonlyMap<string, number>): Promise<void> {
    const have = (await h.listAddrs(index)).filter((a) => a.family === 4);
    for (const a of have) if (wanted.get(a.address) !== a.prefixLength) await h.addrDel(index, a.address, a.prefixLength);
    for (const [ip, len] of wanted) if (!have.some((a) => a.address === ip && a.prefixLength === len)) await h.addrAdd(index, ip, len);
  }

  private async repairHostSide(l: LinkInfo, i: VnfInterfaceWant, bridge: number): Promise<void> {
    if (l.alias !== i.alias) await this.host.setLinkAlias(l.index, i.alias);
    if (l.mtu !== i.mtu) await this.host.setLinkMtu(l.index, i.mtu);
    if (l.master !== bridge) await this.host.setLinkMaster(l.index, bridge);
    if (!l.up) await this.host.setLinkUp(l.index);
  }

  private async repairInside(l: LinkInfo, i: VnfInterfaceWant, ns: NetnsHandle): Promise<void> {
    if (l.mac.toLowerCase() !== i.mac) await ns.setLinkMac(l.index, i.mac);
    if (l.mtu !== i.mtu) await ns.setLinkMtu(l.index, i.mtu);
    await this.ensureOnlyAddress(ns, l.index, i.ip, i.prefixLength);
    if (!l.up) await ns.setLinkUp(l.index);
  }

  /** Interfaces inside the namespace the VNF no longer has (a network it left, a way out it lost); veths' host sides go with them. */
  private async removeStrays(want: VnfWant, ns: NetnsHandle): Promise<void> {
    const keep = new Set(want.interfaces.map((i) => i.ifname));
    if (want.uplink) keep.add(want.uplink.ifname);
    if (want.external) keep.add(want.external.ifname);
    for (const l of await ns.listLinks()) {
      if (l.index !== LOOPBACK_IFINDEX && (l.kind === 'veth' || l.kind === 'macvlan') && !keep.has(l.name)) await ns.removeLink(l.index);
    }
  }

  /**
   * The namespace's gatewayed IPv4 routes are the driver's to decide: every
   * one it renders is there, every other gatewayed route goes (connected
   * routes are the kernel's, from the addresses).
   */
  private async syncRoutes(want: VnfWant, ns: NetnsHandle): Promise<void> {
    const wanted = new Map(want.routes.map((r) => [r.dst, r.via]));
    const current = (await ns.listRoutes(4)).filter((r) => r.gateway !== undefined);
    for (const r of current) if (wanted.get(r.dst) !== r.gateway) await ns.routeDel(r);
    for (const [dst, via] of wanted) {
      if (!current.some((r) => r.dst === dst && r.gateway === via)) await ns.routeReplace({ dst, gateway: via, family: 4 });
    }
  }
}
