// Attach and detach workloads (the CNI ADD/DEL of weft). Attach is a
// one-shot RPC, so it keeps an undo stack: a failure at any step removes
// what was made and frees the address. Detach answers at once and deletes
// the veth in the background (~20 ms in the kernel), while the address
// stays quarantined and the host veth name stays reserved until the old
// interface is really gone.
//
// A new endpoint is announced to the controller before its attach returns
// whenever this host shares a network with another host: the controller
// answers once every other host it concerns has applied it (forwarding and
// neighbour entries, policy address sets), so the workload's first packet
// to or from another host is neither an ARP the remote VXLAN proxy cannot
// answer yet (a 1 s retry) nor a SYN a remote policy drops (a 1 s
// retransmit). A host alone with its networks answers without that round
// trip.
import { inject, injectable, optional } from 'inversify';
import { ENDPOINT_PROPAGATION_WAIT_MS, type PlanNetwork } from '../../model/agent-protocol.js';
import { NOT_A_NAMESPACE_HINT, type AttachParams, type AttachResult, type DetachParams, type DetachResult, type ListResult } from '../../model/agent-rpc.js';
import { WeftError, errorMessage, isWeftError } from '../../model/errors.js';
import { canonicalIp6, endpointIp6, isDualStack, prefixLength6 } from '../../model/dual-stack.js';
import { endpointAlias, endpointMac, endpointName, hostVethName, parseOwnerAlias } from '../../model/kernel-names.js';
import { AGENT_LOGGER, HOST_HANDLE, type AgentLogger } from '../agent-config.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from '../controller-uplink.js';
import { DATAPATH_FACTORY, LOOPBACK_IFINDEX, type DatapathFactory, type LinkInfo, type NetnsHandle } from '../datapath/port.js';
import { BlockAllocator, type Allocation } from '../ipam/block-allocator.js';
import { OverlayManager } from '../overlay/overlay-manager.js';
import { SpoofGuard } from '../firewall/spoof-guard.js';
import { DatapathError, isAlreadyExists, isNotFound } from '../datapath/errors.js';
import { EndpointStore, toReport, type EndpointRecord } from '../state/endpoint-store.js';
import { PlanState } from '../state/plan-state.js';
import { endpointRoutesFor } from './endpoint-routes.js';
import { parseAttachParams, parseDetachParams, parseListParams } from './endpoint-params.js';
import { KeyedMutex } from './keyed-mutex.js';

const DEFAULT_IFNAME = 'eth0';
/** How long an attach waits for a network that is not in the plan yet. */
const NETWORK_WAIT_MS = 2000;
/** Background delete attempts before leaving the record to the reconciler. */
const DELETE_ATTEMPTS = 3;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function toAttachResult(r: EndpointRecord, existing: boolean): AttachResult {
  return {
    endpoint: r.name,
    network: r.network,
    containerId: r.containerId,
    ifname: r.ifname,
    hostIfname: r.hostIfname,
    netns: r.netns,
    address: `${r.ip}/${r.prefixLength}`,
    ip: r.ip,
    prefixLength: r.prefixLength,
    gateway: r.gateway,
    ...(r.ip6 === undefined || r.prefixLength6 === undefined || r.gateway6 === undefined
      ? {}
      : { address6: `${r.ip6}/${r.prefixLength6}`, ip6: r.ip6, prefixLength6: r.prefixLength6, gateway6: r.gateway6 }),
    mac: r.mac,
    mtu: r.mtu,
    existing,
  };
}

/** The IPv6 side of an endpoint on a dual-stack network (model/dual-stack.ts). */
function ipv6Of(network: PlanNetwork, ip: string): { ip6: string; prefixLength6: number; gateway6: string } | undefined {
  if (!isDualStack(network) || network.gateway6 === undefined) return undefined;
  return {
    ip6: endpointIp6(network, ip),
    prefixLength6: prefixLength6(network.subnet6),
    gateway6: canonicalIp6(network.gateway6),
  };
}

/** The kernel refuses IPv6 addresses where IPv6 is disabled (EACCES): say so, and how to fix it. */
function ipv6Refused(e: unknown, network: string, netns: string): unknown {
  if (!(e instanceof DatapathError && e.errno === 'EACCES')) return e;
  return new WeftError('Invalid', `network "${network}" is dual-stack, but IPv6 is disabled in namespace ${netns}; enable it there (sysctl net.ipv6.conf.all.disable_ipv6=0 and net.ipv6.conf.default.disable_ipv6=0 before the attach) or attach to an IPv4-only network`, {
    details: [{ path: '/netns', message: 'IPv6 is disabled in this namespace', value: netns }],
    cause: e,
  });
}


type Undo = { what: string; run: () => Promise<void> | void };

/** A namespace the caller handed over as a descriptor of its own. */
export interface NetnsHandedOver {
  /** Where this process opens it now (its copy of the descriptor, /proc/self/fd/N). */
  openAt: string;
  /** Where this process finds it later (see EndpointRecord.netnsCheckAt). */
  checkAt: string;
}

@injectable()
export class EndpointService {
  private readonly locks = new KeyedMutex();
  /** host veth name -> background delete in progress */
  private readonly pendingDeletes = new Map<string, Promise<void>>();
  /** host veth names an attach is creating right now (the reconciler must not sweep them) */
  private readonly attaching = new Set<string>();
  /** network -> attaches in progress on it: the host carries it before the first record */
  private readonly attachingNetworks = new Map<string, number>();
  private readonly idleListeners = new Set<(network: string) => void>();

  constructor(
    @inject(DATAPATH_FACTORY) private readonly datapath: DatapathFactory,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(BlockAllocator) private readonly allocator: BlockAllocator,
    @inject(OverlayManager) private readonly overlay: OverlayManager,
    @inject(CONTROLLER_UPLINK) private readonly uplink: ControllerUplink,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(SpoofGuard) @optional() private readonly guard?: SpoofGuard,
  ) {}

  /**
   * `origin` tags the record with who asked (see EndpointRecord.origin).
   * `handedOver`: the caller gave the namespace as a descriptor, and
   * params.netns only names it (the caller's path, perhaps not visible here).
   */
  async attach(raw: AttachParams, origin = '', handedOver?: NetnsHandedOver): Promise<AttachResult> {
    const params = parseAttachParams(raw, '');
    const ifname = params.ifname ?? DEFAULT_IFNAME;
    return this.locks.run(params.containerId, async () => {
      const name = endpointName(params.containerId, ifname);
      const hostIfname = hostVethName(params.containerId, ifname);
      await this.settleDelete(hostIfname);
      const existing = this.store.byContainer(params.containerId).find((r) => r.ifname === ifname);
      if (existing) return this.existingResult(existing, params);
      if (!this.plan.current()) {
        throw new WeftError('NotReady', 'the agent has no plan yet (controller not reached and no cached plan); try again');
      }
      const network = this.plan.network(params.network) ?? (await this.awaitNetwork(params.network));
      if (!network) {
        throw new WeftError('NotFound', `network "${params.network}" does not exist on this host's plan`, {
          details: [{ path: '/network', message: `unknown network "${params.network}"`, value: params.network }],
        });
      }
      const clash = this.store.byHostIfname(hostIfname);
      if (clash) {
        throw new WeftError('Conflict', `host interface name ${hostIfname} is taken by endpoint "${clash.name}" (hash collision); use another ifname`);
      }
      return this.create(params, handedOver, network, { name, ifname, hostIfname, origin });
    });
  }

  async detach(raw: DetachParams): Promise<DetachResult> {
    const params = parseDetachParams(raw, '');
    return this.locks.run(params.containerId, async () => {
      const records = this.store
        .byContainer(params.containerId)
        .filter((r) => (params.ifname === undefined || r.ifname === params.ifname) && (params.network === undefined || r.network === params.network));
      for (const r of records) this.beginDelete(r);
      return { detached: records.map((r) => r.name) };
    });
  }

  list(raw: { network?: string } = {}): ListResult {
    const params = parseListParams(raw, '');
    const filter = params.network === undefined ? { state: 'attached' as const } : { state: 'attached' as const, network: params.network };
    return { endpoints: this.store.list(filter).map((r) => toAttachResult(r, true)) };
  }

  /** Host veth names an attach or a delete is working on: not the reconciler's to touch. */
  busyHostIfnames(): Set<string> {
    return new Set([...this.attaching, ...this.pendingDeletes.keys()]);
  }

  /** Networks an attach is working on right now: their overlay must stay. */
  busyNetworks(): Set<string> {
    return new Set(this.attachingNetworks.keys());
  }

  /** Told when the last endpoint of a network here is gone: its overlay device can go. */
  onNetworkIdle(listener: (network: string) => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  /** Reconciler: finish a 'deleting' record (e.g. left by a restart). */
  async finishDelete(name: string): Promise<void> {
    const r = this.store.get(name);
    if (!r) return;
    await this.locks.run(r.containerId, async () => {
      const now = this.store.get(name);
      if (now?.state === 'deleting') this.beginDelete(now);
    });
    await this.pendingDeletes.get(r.hostIfname);
  }

  /** Reconciler: drop an attached record whose host veth vanished; true when dropped. */
  async dropIfLinkGone(name: string): Promise<boolean> {
    const r = this.store.get(name);
    if (!r) return false;
    return this.locks.run(r.containerId, async () => {
      const now = this.store.get(name);
      if (now?.state !== 'attached' || this.busyHostIfnames().has(now.hostIfname)) return false;
      if (await this.host.getLink(now.hostIfname)) return false;
      this.log.warn({ endpoint: now.name, netns: now.netns, hostIfname: now.hostIfname }, `endpoint detached: its host interface ${now.hostIfname} is gone`);
      this.forget(now);
      return true;
    });
  }

  /**
   * Reaper: detach an attached endpoint whose network namespace is gone.
   * `why` says why (undefined: not gone); it is asked again under the
   * container's lock, so an attach or detach that finished meanwhile wins.
   * An endpoint whose container has an attach or detach in flight is left
   * for a later pass, without waiting for it (an attach may itself wait for
   * a reconcile pass). Resolves once the host veth is removed (its peer in
   * the namespace, if any is left, goes with it), the address is free and
   * the controller is told. Logs one line for the endpoint; true when reaped.
   */
  async reap(name: string, why: (r: EndpointRecord) => Promise<string | undefined>): Promise<boolean> {
    const r = this.store.get(name);
    if (!r) return false;
    const reaped = await this.locks.tryRun(r.containerId, async () => {
      const now = this.store.get(name);
      if (now?.state !== 'attached' || this.busyHostIfnames().has(now.hostIfname)) return false;
      const reason = await why(now);
      if (reason === undefined) return false;
      this.log.warn({ endpoint: now.name, netns: now.netns, hostIfname: now.hostIfname, reason }, `endpoint detached: its network namespace is gone (${reason})`);
      this.beginDelete(now, true);
      return true;
    });
    if (reaped !== true) return false;
    await this.pendingDeletes.get(r.hostIfname);
    return true;
  }

  /** Reconciler: remove a weft veth that no record explains (half-made by a crash). */
  async removeOrphanVeth(link: { index: number; name: string }): Promise<boolean> {
    if (this.busyHostIfnames().has(link.name) || this.store.byHostIfname(link.name)) return false;
    await this.host.removeLink(link.index);
    return true;
  }

  /** Wait for the background deletes in flight (used on shutdown and by tests). */
  async drain(): Promise<void> {
    while (this.pendingDeletes.size > 0) await Promise.allSettled([...this.pendingDeletes.values()]);
  }

  /**
   * A repeated attach returns the existing attachment only if it is the same
   * one: same network, namespace and any requested address or MAC. Anything
   * else (e.g. a restarted container whose detach never came) is a conflict:
   * an attach must create the interface or fail.
   */
  private existingResult(r: EndpointRecord, params: AttachParams): AttachResult {
    const differs: [string, unknown, string][] = [];
    if (r.network !== params.network) differs.push(['/network', params.network, `network "${r.network}"`]);
    if (r.netns !== params.netns) differs.push(['/netns', params.netns, `namespace ${r.netns}`]);
    if (params.ip !== undefined && r.ip !== params.ip) differs.push(['/ip', params.ip, `address ${r.ip}`]);
    if (params.mac !== undefined && r.mac !== params.mac) differs.push(['/mac', params.mac, `MAC ${r.mac}`]);
    if (differs.length > 0) {
      throw new WeftError(
        'Conflict',
        `container ${r.containerId} already has ${r.ifname} with ${differs.map((d) => d[2]).join(', ')}; detach it first to attach it differently`,
        { details: differs.map(([path, value]) => ({ path, message: 'differs from the existing attachment', value })) },
      );
    }
    return toAttachResult(r, true);
  }

  /** Wait until an earlier delete of this host veth is done; finish one a restart left behind. */
  private async settleDelete(hostIfname: string): Promise<void> {
    const pending = this.pendingDeletes.get(hostIfname);
    if (pending) await pending;
    const r = this.store.byHostIfname(hostIfname);
    if (r?.state !== 'deleting') return;
    this.beginDelete(r);
    await this.pendingDeletes.get(hostIfname);
    if (this.store.byHostIfname(hostIfname)) {
      throw new WeftError('Datapath', `the previous interface ${hostIfname} of this container could not be removed yet; try again`);
    }
  }

  /**
   * A network created a moment ago may still be on its way to this host
   * (`weft apply` then `weft run` at once): while the controller is
   * connected, wait briefly for the plan to bring it before saying NotFound.
   */
  private async awaitNetwork(name: string): Promise<PlanNetwork | undefined> {
    if (!this.uplink.connected) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(this.plan.network(name));
      }, NETWORK_WAIT_MS);
      const stop = this.plan.onChange(() => {
        const n = this.plan.network(name);
        if (!n) return;
        clearTimeout(timer);
        stop();
        resolve(n);
      });
    });
  }

  private async create(
    params: AttachParams,
    handedOver: NetnsHandedOver | undefined,
    network: PlanNetwork,
    names: { name: string; ifname: string; hostIfname: string; origin: string },
  ): Promise<AttachResult> {
    const { name, ifname, hostIfname, origin } = names;
    const undo: Undo[] = [];
    let succeeded = false;
    let step = 'open namespace';
    let ns: NetnsHandle | undefined;
    this.attaching.add(hostIfname);
    this.attachingNetworks.set(network.name, (this.attachingNetworks.get(network.name) ?? 0) + 1);
    try {
      // The namespace first: a request naming a missing namespace must not
      // leave a bridge or a held address behind.
      step = 'open namespace';
      const nsPath = handedOver?.openAt ?? params.netns;
      ns = await this.openNetns(nsPath, params.netns);

      step = 'allocate address';
      const alloc: Allocation = await this.allocator.allocate(network, name, params.ip, params.containerId);
      undo.push({ what: `release ${alloc.ip}`, run: () => this.releaseAddress(network.name, alloc) });

      const mac = params.mac ?? endpointMac(alloc.ip);
      const v6 = ipv6Of(network, alloc.ip);
      // The port is admitted to the anti-spoofing table (its MAC and addresses
      // only) while the links are made: one nft transaction in parallel with
      // the netlink work, awaited before the attach reports success. Until it
      // lands the port sends nothing (unknown wv-* ports are dropped).
      const port = { ifname: hostIfname, mac, ip: alloc.ip, ...(v6 === undefined ? {} : { ip6: v6.ip6 }) };
      const admitted = this.guard?.admit(port);
      admitted?.catch(() => undefined); // awaited below; never an unhandled rejection
      if (admitted) undo.push({ what: `unguard ${hostIfname}`, run: () => this.guard?.unpin(port, true) ?? Promise.resolve() });

      step = 'ensure bridge';
      const bridgeIndex = await this.overlay.ensureNetwork(network);
      step = 'create veth';
      const spec = {
        name: hostIfname,
        mtu: network.mtu,
        master: bridgeIndex,
        up: true,
        // brought up below through our handle in the namespace (no extra socket)
        peer: { name: ifname, netns: nsPath, mac, up: false },
      };
      let veth: LinkInfo;
      try {
        veth = await this.host.addVeth(spec);
      } catch (e: unknown) {
        if (!isAlreadyExists(e)) {
          this.overlay.invalidate(network.name); // the bridge may have vanished under us
          throw e;
        }
        // A name is taken. Checked only now, to keep the common path short:
        // a half-made pair from an attach that died before its record (its
        // peer may hold our ifname in the namespace, so it goes first), or
        // the workload really has an interface of that name.
        step = 'remove stale host veth';
        await this.removeStaleVeth(hostIfname, name);
        step = 'check interface name';
        if (await ns.getLink(ifname)) {
          throw new WeftError('Conflict', `namespace ${params.netns} already has an interface named ${ifname}`, {
            details: [{ path: '/ifname', message: 'exists in the namespace', value: ifname }],
          });
        }
        step = 'create veth';
        veth = await this.host.addVeth(spec);
      }
      undo.push({ what: `remove ${hostIfname}`, run: () => this.host.removeLink(veth.index) });

      step = 'configure the interfaces';
      const peerIndex = veth.peerIndex ?? (await ns.getLink(ifname))?.index;
      if (peerIndex === undefined) throw new Error(`${ifname} is missing in ${params.netns} right after creating it`);
      const inside = ns;
      // Issued back to back without waiting in between: each socket hands
      // its requests to the kernel in order (the route needs the address and
      // the link up before it), and the round trips overlap. ~1 ms saved.
      await Promise.all([
        this.host.setLinkAlias(veth.index, endpointAlias(name)),
        ns.setLinkUp(LOOPBACK_IFINDEX),
        ns.setLinkUp(peerIndex),
        ns.addrAdd(peerIndex, alloc.ip, network.prefixLength),
        ns.routeReplace({ dst: 'default', gateway: network.gateway, oif: peerIndex, family: 4 }),
        ...(v6 === undefined
          ? []
          : [
              inside.addrAdd(peerIndex, v6.ip6, v6.prefixLength6).catch((e: unknown) => {
                throw ipv6Refused(e, network.name, params.netns);
              }),
              inside.routeReplace({ dst: 'default', gateway: v6.gateway6, oif: peerIndex, family: 6 }),
            ]),
        // Routes to the networks a Firewall VNF guards together with this one, via the firewall (vnf/endpoint-routes.ts).
        ...endpointRoutesFor(this.plan.current(), network.name).map((r) => inside.routeReplace({ dst: r.dst, gateway: r.via, oif: peerIndex, family: 4 })),
      ]);

      step = 'admit the port to the anti-spoofing table';
      await admitted;

      step = 'persist record';
      const record: EndpointRecord = {
        name,
        network: network.name,
        containerId: params.containerId,
        ifname,
        ip: alloc.ip,
        mac,
        hostIfname,
        netns: params.netns,
        ...(ns.netnsId === undefined ? {} : { netnsId: ns.netnsId }),
        ...(handedOver === undefined ? {} : { netnsCheckAt: handedOver.checkAt }),
        labels: params.labels ?? {},
        state: 'attached',
        prefixLength: network.prefixLength,
        gateway: network.gateway,
        ...(v6 ?? {}),
        mtu: network.mtu,
        origin,
      };
      this.store.put(record);
      // The record holds the address from now on.
      this.allocator.release(network.name, alloc.ip);
      succeeded = true;
      if (admitted) void this.guard?.unpin(port, false);
      await this.announce(record);
      this.log.info({ endpoint: name, ip: record.ip, hostIfname }, 'endpoint attached');
      return { ...toAttachResult(record, false), hostMac: veth.mac };
    } catch (e: unknown) {
      throw this.wrap(e, params, ifname, step);
    } finally {
      if (!succeeded) await this.rollback(undo, name);
      ns?.close();
      this.attaching.delete(hostIfname);
      const left = (this.attachingNetworks.get(network.name) ?? 1) - 1;
      if (left > 0) this.attachingNetworks.set(network.name, left);
      else this.attachingNetworks.delete(network.name);
      if (!succeeded && left === 0 && !this.store.hasAttached(network.name)) this.notifyIdle(network.name);
    }
  }

  /**
   * Tell the controller of a new endpoint. When another host shares a
   * network with this one (the plan floods to some VTEP), wait (bounded)
   * until every host it concerns has applied it; otherwise after the caller
   * has its answer, off the attach's path. Never fails the attach: the
   * endpoint works here, and a host that is late gets it later.
   */
  private async announce(record: EndpointRecord): Promise<void> {
    const report = toReport(record);
    if (!this.uplink.connected || (this.plan.current()?.flood.length ?? 0) === 0) {
      setImmediate(() => this.uplink.send({ type: 'endpointUp', endpoint: report }));
      return;
    }
    try {
      const { late } = await this.uplink.announceEndpoint(report, ENDPOINT_PROPAGATION_WAIT_MS);
      if (late.length > 0) this.log.warn({ endpoint: record.name, late }, 'hosts applied the new endpoint late; its first packets to them may wait');
    } catch (e: unknown) {
      // Refused, timed out or disconnected: the controller said why, or the next hello carries the endpoint.
      this.log.warn({ endpoint: record.name, err: errorMessage(e) }, 'the controller did not confirm the new endpoint on other hosts');
    }
  }

  private async openNetns(path: string, named: string): Promise<NetnsHandle> {
    try {
      return await this.datapath.at(path);
    } catch (e: unknown) {
      if (e instanceof DatapathError && e.errno === 'EINVAL') {
        throw new WeftError('Invalid', `network namespace ${named}: ${NOT_A_NAMESPACE_HINT}`, {
          details: [{ path: '/netns', message: 'not a network namespace where the agent looks', value: named }],
          cause: e,
        });
      }
      if (!isNotFound(e)) throw e;
      throw new WeftError('Invalid', `network namespace ${named} does not exist`, {
        details: [{ path: '/netns', message: 'no such network namespace', value: named }],
        cause: e,
      });
    }
  }

  /** A host veth with our deterministic name but no record: left by a crash, ours to remove. */
  private async removeStaleVeth(hostIfname: string, name: string): Promise<void> {
    const stale = await this.host.getLink(hostIfname);
    if (!stale) return;
    const owner = parseOwnerAlias(stale.alias);
    if (stale.alias && !(owner?.type === 'ep' && owner.name === name)) {
      throw new WeftError('Conflict', `host interface ${hostIfname} exists and belongs to ${JSON.stringify(stale.alias)}`);
    }
    await this.host.removeLink(stale.index);
  }

  private async rollback(undo: Undo[], name: string): Promise<void> {
    for (const u of undo.reverse()) {
      try {
        await u.run();
      } catch (e: unknown) {
        // The reconciler sweeps what is left (a veth without a record).
        this.log.error({ endpoint: name, err: errorMessage(e) }, `attach rollback: ${u.what} failed`);
      }
    }
  }

  private wrap(e: unknown, params: AttachParams, ifname: string, step: string): WeftError {
    // Validation, conflicts and NotReady speak for themselves; kernel failures get the attach's context.
    if (isWeftError(e) && e.code !== 'Datapath') return e;
    const what = `attach ${params.containerId}/${ifname} to network "${params.network}"`;
    const detail = isWeftError(e) ? e.message : `${step}: ${errorMessage(e)}`;
    return new WeftError('Datapath', `${what}: ${detail} (rolled back)`, { cause: e });
  }

  private releaseAddress(network: string, alloc: Allocation): void {
    this.allocator.release(network, alloc.ip);
    if (alloc.remote) this.uplink.send({ type: 'releaseStatic', network, ip: alloc.ip });
  }

  /** `logged`: the caller said already why the endpoint goes (one line per endpoint). */
  private beginDelete(r: EndpointRecord, logged = false): void {
    if (r.state !== 'deleting') this.store.setState(r.name, 'deleting');
    this.allocator.quarantine(r.network, r.ip, r.name);
    if (this.pendingDeletes.has(r.hostIfname)) return;
    // Started after the caller has its answer: even the first netlink
    // request is a system call on this thread, and it can wait for the
    // kernel's rtnl lock while another deletion holds it.
    const started = new Promise<void>((resolve) => setImmediate(resolve));
    const done = started.then(() => this.deleteVeth(r, logged)).finally(() => this.pendingDeletes.delete(r.hostIfname));
    this.pendingDeletes.set(r.hostIfname, done);
  }

  /** Never rejects: on repeated failure the record stays 'deleting' for the reconciler. */
  private async deleteVeth(r: EndpointRecord, logged: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const link = await this.host.getLink(r.hostIfname);
        const owner = parseOwnerAlias(link?.alias);
        if (link && (!link.alias || (owner?.type === 'ep' && owner.name === r.name))) {
          await this.host.removeLink(link.index); // the peer in the workload goes with it
        }
        break;
      } catch (e: unknown) {
        if (attempt >= DELETE_ATTEMPTS) {
          this.log.error({ endpoint: r.name, hostIfname: r.hostIfname, err: errorMessage(e) }, 'removing host veth failed; the reconciler will retry');
          return;
        }
        await sleep(50 * 2 ** attempt);
      }
    }
    this.forget(r);
    if (!logged) this.log.info({ endpoint: r.name, hostIfname: r.hostIfname }, 'endpoint detached');
  }

  /** The interface is gone: drop the record, free the address, tell the controller. */
  private forget(r: EndpointRecord): void {
    this.store.remove(r.name);
    this.allocator.unquarantine(r.network, r.ip);
    if (!this.allocator.isOwn(r.network, r.ip)) this.uplink.send({ type: 'releaseStatic', network: r.network, ip: r.ip });
    this.uplink.send({ type: 'endpointDown', name: r.name });
    if (!this.attachingNetworks.has(r.network) && !this.store.hasAttached(r.network)) this.notifyIdle(r.network);
  }

  private notifyIdle(network: string): void {
    for (const l of this.idleListeners) l(network);
  }
}
