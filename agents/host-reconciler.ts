// Brings the host namespace in line with the plan and the endpoint records:
// render -> observe -> diff (pure, reconcile/host-diff.ts and
// reconcile/overlay-diff.ts) -> apply -> report status. Each pass reads
// everything again, so apply keeps no undo state; a failed action is
// retried by the next pass. Passes never overlap: a trigger during a pass
// queues exactly one more.
//
// Plan deltas that only change overlay entries (a remote endpoint or a
// flood VTEP came or went: the common case, one per attach anywhere) take
// an incremental pass instead: the same render -> observe -> diff -> apply,
// scoped to the FDB and neighbour entries of the touched networks' VXLAN
// devices (two dumps per network, no link listing, no nft), so the change
// is in the kernel within a millisecond or so. It runs in the same loop, so
// it never interleaves with a full pass; a full pass covers those queued
// before it started.
import { inject, injectable, optional } from 'inversify';
import type { AgentMessage, HostPlan } from '../model/agent-protocol.js';
import { errorMessage } from '../model/errors.js';
import { BRIDGE_PREFIX, VXLAN_PREFIX } from '../model/kernel-names.js';
import { AGENT_CONFIG, AGENT_LOGGER, HOST_HANDLE, type AgentConfig, type AgentLogger } from './agent-config.js';
import { BridgeManager } from './bridges/bridge-manager.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from './controller-uplink.js';
import { isNotFound } from './datapath/errors.js';
import type { AddrInfo, FdbEntry, NeighEntry, NetnsHandle } from './datapath/port.js';
import { EndpointService } from './endpoints/endpoint-service.js';
import { PolicyEnforcer } from './firewall/policy-enforcer.js';
import { SpoofGuard } from './firewall/spoof-guard.js';
import { OverlayManager } from './overlay/overlay-manager.js';
import { Underlay } from './overlay/underlay.js';
import { diffHost, renderHost, type HostAction } from './reconcile/host-diff.js';
import { VXLAN_OVERHEAD, diffOverlayEntries, renderOverlayEntries, type Vtep } from './reconcile/overlay-diff.js';
import { overlayNetworksTouched } from './state/apply-plan-delta.js';
import { EndpointStore } from './state/endpoint-store.js';
import { PlanState, type PlanChange } from './state/plan-state.js';
import { EndpointRoutes } from './vnf/endpoint-routes.js';
import { FirewallVnfHost, firewallVnfNetworks } from './vnf/firewall-host.js';

export interface PassReport {
  revision: number;
  actions: HostAction[];
  failures: { action: HostAction; error: string }[];
}

export interface OverlaySyncReport extends PassReport {
  /** the networks the incremental pass looked at */
  networks: string[];
}

/** How often firewall counters are re-read (and reported when they moved). */
export const COUNTER_INTERVAL_MS = 5_000;

interface Waiter {
  gen: number;
  resolve: () => void;
}

interface OverlayBatch {
  networks: Set<string>;
  waiters: (() => void)[];
}

function networkOf(a: HostAction): string | undefined {
  switch (a.op) {
    case 'ensureBridge':
    case 'ensureVxlan':
      return a.network.name;
    case 'removeOrphanVeth':
      return undefined;
    default:
      return a.network;
  }
}

@injectable()
export class HostReconciler {
  private requested = 0;
  private done = 0;
  private loop: Promise<void> = Promise.resolve();
  private running = false;
  private isolationWarned = false;
  private waiters: Waiter[] = [];
  private overlayBatch: OverlayBatch = { networks: new Set(), waiters: [] };
  private timer: NodeJS.Timeout | undefined;
  private counterTimer: NodeJS.Timeout | undefined;
  private spoofDrops: Record<string, number> | undefined;
  private readingCounters = false;
  private unsubscribe: (() => void)[] = [];
  /** Per-network failure of the last full pass, and of incremental passes since. */
  private passProblems = new Map<string, string>();
  private readonly entryProblems = new Map<string, string>();
  private readonly mtuWarned = new Set<string>();
  /** The last pass's outcome (health and tests read it). */
  lastPass: PassReport | undefined;
  lastOverlaySync: OverlaySyncReport | undefined;

  constructor(
    @inject(AGENT_CONFIG) private readonly config: Pick<AgentConfig, 'resyncMs'>,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(BridgeManager) private readonly bridges: BridgeManager,
    @inject(OverlayManager) private readonly overlay: OverlayManager,
    @inject(Underlay) private readonly underlay: Underlay,
    @inject(EndpointService) private readonly endpoints: EndpointService,
    @inject(CONTROLLER_UPLINK) private readonly uplink: ControllerUplink,
    @inject(PolicyEnforcer) @optional() private readonly policies?: PolicyEnforcer,
    @inject(SpoofGuard) @optional() private readonly guard?: SpoofGuard,
    // Firewall VNFs and the endpoint routes through them (optional: tests build reconcilers without them).
    @inject(FirewallVnfHost) @optional() private readonly vnfs?: FirewallVnfHost,
    @inject(EndpointRoutes) @optional() private readonly endpointRoutes?: EndpointRoutes,
  ) {}

  /** Reconcile on every plan change and periodically (drift nobody told us about). */
  start(): void {
    if (this.unsubscribe.length === 0) {
      this.unsubscribe = [
        this.plan.onChange((_plan, change) => this.onPlanChange(change)),
        // Devices made for the old VTEP are replaced by the next full pass.
        this.underlay.onChange(() => {
          this.overlay.invalidate();
          void this.reconcile();
        }),
        // A device was made or checked: program its entries now (an attach waits for this).
        this.overlay.onDevice((network) => this.syncOverlay([network])),
        // The last endpoint of a network left: its device goes.
        this.endpoints.onNetworkIdle(() => void this.reconcile()),
      ];
    }
    if (!this.timer && this.config.resyncMs > 0) {
      this.timer = setInterval(() => void this.reconcile(), this.config.resyncMs);
      this.timer.unref();
    }
    if (!this.counterTimer && (this.policies?.enabled || this.guard?.enabled) && COUNTER_INTERVAL_MS > 0) {
      this.counterTimer = setInterval(() => void this.reportCounters(), COUNTER_INTERVAL_MS);
      this.counterTimer.unref();
    }
  }

  /** Counters change without any plan change: re-read them now and then, and report when they moved. */
  async reportCounters(): Promise<void> {
    const plan = this.plan.current();
    // One read at a time: on a big table a read can outlast the interval.
    if (!plan || this.readingCounters) return;
    this.readingCounters = true;
    try {
      const moved = (await this.policies?.refreshCounters()) ?? false;
      const drops = await this.guard?.spoofDrops();
      const dropsMoved = drops !== undefined && JSON.stringify(drops) !== JSON.stringify(this.spoofDrops);
      if (drops !== undefined) this.spoofDrops = drops;
      const vnfMoved = (await this.vnfs?.refreshCounters()) ?? false;
      if (moved || dropsMoved || vnfMoved) this.uplink.send(this.status(plan));
    } catch (e: unknown) {
      this.log.warn({ err: errorMessage(e) }, 'cannot read firewall counters');
    } finally {
      this.readingCounters = false;
    }
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    clearInterval(this.timer);
    this.timer = undefined;
    clearInterval(this.counterTimer);
    this.counterTimer = undefined;
    await this.loop;
  }

  /** Resolves after a full pass that started after this call has finished. */
  reconcile(): Promise<void> {
    const gen = ++this.requested;
    const settled = new Promise<void>((resolve) => this.waiters.push({ gen, resolve }));
    this.kick();
    return settled;
  }

  /**
   * Bring the overlay entries of `networks` in line with the plan (an
   * incremental pass; with no networks it only reports the revision).
   * Resolves once a pass covering them has finished.
   */
  syncOverlay(networks: Iterable<string>): Promise<void> {
    const batch = this.overlayBatch;
    for (const n of networks) batch.networks.add(n);
    const settled = new Promise<void>((resolve) => batch.waiters.push(resolve));
    this.kick();
    return settled;
  }

  private onPlanChange(change: PlanChange): void {
    if (change.kind === 'block') return; // no kernel object depends on a block
    if (change.kind === 'delta') {
      const touched = overlayNetworksTouched(change.previous, change.delta);
      if (touched) {
        void this.syncOverlay(touched);
        return;
      }
    }
    void this.reconcile();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private takeBatch(): OverlayBatch {
    const batch = this.overlayBatch;
    this.overlayBatch = { networks: new Set(), waiters: [] };
    return batch;
  }

  private async run(): Promise<void> {
    // `running` is cleared in the same synchronous step as the last loop
    // check, so a trigger from a resolved waiter starts a new run.
    while (this.done < this.requested || this.overlayBatch.waiters.length > 0) {
      if (this.done < this.requested) {
        const gen = this.requested;
        const covered = this.takeBatch(); // the pass reads the plan as it is now: it covers these
        try {
          this.lastPass = await this.pass();
        } catch (e: unknown) {
          // Observing failed (the kernel did not answer): the next trigger retries.
          this.log.error({ err: errorMessage(e) }, 'reconcile pass failed');
        }
        this.done = gen;
        const ready = this.waiters.filter((w) => w.gen <= gen);
        this.waiters = this.waiters.filter((w) => w.gen > gen);
        for (const w of ready) w.resolve();
        for (const w of covered.waiters) w();
      } else {
        const batch = this.takeBatch();
        try {
          this.lastOverlaySync = await this.overlayPass(batch.networks);
        } catch (e: unknown) {
          this.log.error({ err: errorMessage(e) }, 'overlay pass failed');
        }
        for (const w of batch.waiters) w();
      }
    }
    this.running = false;
  }

  /** The host carries a network: an attached endpoint on it, or an attach in progress. */
  private carries(network: string): boolean {
    return this.endpoints.busyNetworks().has(network) || this.store.hasAttached(network) || firewallVnfNetworks(this.plan.current()).has(network);
  }

  private async pass(): Promise<PassReport> {
    const plan = this.plan.current();
    // Isolation first: it must cover every bridge before traffic can use it.
    if (plan) {
      try {
        await this.bridges.isolate(plan.networks.map((n) => n.bridge));
      } catch (e: unknown) {
        if (!this.isolationWarned) this.log.error({ err: errorMessage(e) }, 'cannot isolate networks from each other with nftables');
        this.isolationWarned = true;
      }
    }
    // Then the firewall: every endpoint port guarded, every policy in force, before anything else changes.
    await this.syncFirewall(plan);
    const links = await this.host.listLinks();
    const bridgeAddrs = new Map<number, AddrInfo[]>();
    const fdb = new Map<number, FdbEntry[]>();
    const neigh = new Map<number, NeighEntry[]>();
    const vxlans = new Map<string, number>();
    for (const l of links) {
      if (l.kind === 'bridge' && l.name.startsWith(BRIDGE_PREFIX)) bridgeAddrs.set(l.index, await this.host.listAddrs(l.index));
      if (l.kind === 'vxlan' && l.name.startsWith(VXLAN_PREFIX)) {
        vxlans.set(l.name, l.index);
        fdb.set(l.index, await this.host.listFdb(l.index));
        neigh.set(l.index, await this.host.listNeigh(l.index));
      }
    }
    // Records and busy names are read together, after the links, so an
    // attach that finished in between is seen as a record, not an orphan.
    const records = this.store.list();
    const busy = this.endpoints.busyHostIfnames();
    const busyNetworks = this.endpoints.busyNetworks();
    for (const n of firewallVnfNetworks(plan)) busyNetworks.add(n); // a firewall's interface carries its networks
    const vtep = this.underlay.current();
    const desired = renderHost(plan, records, { busyNetworks, vtep });
    if (desired.overlay) this.checkMtu(desired.overlay.carried, vtep);
    const actions = diffHost(desired, { links, bridgeAddrs, busy, fdb, neigh });
    const failures: PassReport['failures'] = [];
    for (const action of actions) {
      try {
        await this.apply(action, vxlans);
      } catch (e: unknown) {
        failures.push({ action, error: errorMessage(e) });
        this.log.error({ op: action.op, err: errorMessage(e) }, 'reconcile action failed');
      }
    }
    if (actions.length > 0) this.log.info({ actions: actions.map((a) => a.op), failures: failures.length }, 'reconciled host');
    if (plan) await this.syncVnfs(plan, records);
    this.passProblems = problemsOf(failures);
    this.entryProblems.clear();
    if (plan) this.report(plan);
    this.savePlan();
    return { revision: plan?.revision ?? 0, actions, failures };
  }

  /** Firewall VNFs (after bridges and VXLAN devices exist), then the endpoint routes through them. */
  private async syncVnfs(plan: HostPlan, records: ReturnType<EndpointStore['list']>): Promise<void> {
    try {
      await this.vnfs?.sync(plan);
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'firewall VNF pass failed');
    }
    try {
      await this.endpointRoutes?.sync(plan, records);
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'endpoint route pass failed');
    }
  }

  private async overlayPass(networks: Set<string>): Promise<OverlaySyncReport> {
    const plan = this.plan.current();
    const report: OverlaySyncReport = { revision: plan?.revision ?? 0, networks: [...networks], actions: [], failures: [] };
    if (!plan) return report;
    const vtep = this.underlay.current();
    let deviceMissing = false;
    for (const name of networks) {
      const net = plan.networks.find((n) => n.name === name);
      if (!net || !this.carries(name)) continue; // no device here to program
      this.entryProblems.delete(name);
      const index = await this.overlay.vxlanIndex(net);
      if (index === undefined) {
        deviceMissing = true; // the full pass makes it, entries included
        continue;
      }
      const [fdb, neigh] = [await this.host.listFdb(index), await this.host.listNeigh(index)];
      const actions = diffOverlayEntries(name, net.vxlan, renderOverlayEntries(plan, name, vtep?.address), { fdb, neigh });
      for (const a of actions) {
        report.actions.push(a);
        try {
          await this.overlay.applyEntry(a, index);
        } catch (e: unknown) {
          report.failures.push({ action: a, error: errorMessage(e) });
          this.entryProblems.set(name, `${a.op}: ${errorMessage(e)}`);
          this.log.error({ op: a.op, network: name, err: errorMessage(e) }, 'overlay entry failed');
          if (isNotFound(e)) {
            // The device went away under us: the full pass rebuilds it.
            this.overlay.invalidate(name);
            deviceMissing = true;
            break;
          }
        }
      }
    }
    if (deviceMissing) void this.reconcile();
    this.report(plan);
    this.savePlan();
    return report;
  }

  /** The plan just applied and reported goes to the agent state now (written behind: see EndpointStore.savePlan). */
  private savePlan(): void {
    try {
      this.store.flushPlan();
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'cannot write the plan to the agent state (the fallback for starting without the controller)');
    }
  }

  private async syncFirewall(plan: HostPlan | undefined): Promise<void> {
    // No plan (restarted with the controller away and nothing cached): the table in force stays.
    if (plan && this.policies?.enabled) await this.policies.sync(plan);
    if (this.guard?.enabled) {
      // Ports of endpoints with an ingress policy: no IPv4 broadcast/multicast reaches them (nothing to judge it by).
      const ingress = this.policies?.ingressAddresses() ?? new Set<string>();
      const policed = this.store.list().filter((r) => ingress.has(r.ip)).map((r) => r.hostIfname);
      try {
        await this.guard.sync(policed);
      } catch (e: unknown) {
        this.log.error({ err: errorMessage(e) }, 'cannot write the anti-spoofing table');
      }
      this.policies?.setGuardProblem(this.guard.problem);
    }
  }

  /** The network MTU comes from the controller; an underlay that cannot carry it is worth one loud line. */
  private checkMtu(carried: { name: string; mtu: number }[], vtep: Vtep | undefined): void {
    if (vtep?.mtu === undefined) return;
    for (const n of carried) {
      const key = `${n.name}|${n.mtu}|${vtep.mtu}`;
      if (n.mtu + VXLAN_OVERHEAD <= vtep.mtu || this.mtuWarned.has(key)) continue;
      this.mtuWarned.add(key);
      this.log.error(
        { network: n.name, mtu: n.mtu, underlayMtu: vtep.mtu },
        `network MTU ${n.mtu} needs an underlay MTU of ${n.mtu + VXLAN_OVERHEAD}; this host's is ${vtep.mtu}: large packets will be lost`,
      );
    }
  }

  private report(plan: HostPlan): void {
    this.plan.appliedRevision = plan.revision;
    this.uplink.send(this.status(plan));
  }

  private status(plan: HostPlan): AgentMessage {
    const out: Record<string, { ready: boolean; message?: string }> = {};
    for (const n of plan.networks) {
      const message = this.passProblems.get(n.name) ?? this.entryProblems.get(n.name);
      out[n.name] = message === undefined ? { ready: true } : { ready: false, message };
    }
    const msg: AgentMessage = { type: 'status', appliedRevision: plan.revision, networks: out };
    if (this.policies?.enabled) msg.firewall = this.policies.reports(plan);
    if (this.spoofDrops !== undefined) msg.spoofDrops = this.spoofDrops;
    const firewallVnfs = this.vnfs?.reports();
    if (firewallVnfs && Object.keys(firewallVnfs).length > 0) msg.firewallVnfs = firewallVnfs;
    return msg;
  }

  /** `vxlans`: device name -> ifindex, as observed and as ensured during this pass. */
  private async apply(a: HostAction, vxlans: Map<string, number>): Promise<void> {
    switch (a.op) {
      case 'ensureBridge':
        this.bridges.invalidate(a.network.name); // the cache said fine, the kernel says otherwise
        await this.bridges.ensureBridge(a.network);
        return;
      case 'ensureVxlan': {
        this.overlay.invalidate(a.network.name);
        const bridge = await this.bridges.ensureBridge(a.network);
        const index = await this.overlay.ensureVxlan(a.network, bridge);
        if (index === undefined) vxlans.delete(a.network.vxlan);
        else vxlans.set(a.network.vxlan, index);
        return;
      }
      case 'fdbAdd':
      case 'fdbDel':
      case 'neighReplace':
      case 'neighDel': {
        const index = vxlans.get(a.vxlan);
        if (index === undefined) return; // its ensureVxlan failed and says so
        await this.overlay.applyEntry(a, index);
        return;
      }
      case 'removeVxlan':
        await this.overlay.removeVxlan(a.network, a.link, () => !this.plan.network(a.network) || !this.carries(a.network));
        return;
      case 'repairVeth': {
        if (a.alias !== undefined) await this.host.setLinkAlias(a.link.index, a.alias);
        if (a.masterBridge !== undefined) {
          const net = this.plan.network(a.network);
          if (!net) return;
          const bridge = await this.bridges.ensureBridge(net);
          await this.host.setLinkMaster(a.link.index, bridge);
        }
        return;
      }
      case 'removeOrphanVeth':
        await this.endpoints.removeOrphanVeth(a.link);
        return;
      case 'finishDelete':
        await this.endpoints.finishDelete(a.endpoint);
        return;
      case 'dropRecord':
        await this.endpoints.dropIfLinkGone(a.endpoint);
        return;
      case 'removeBridge':
        await this.bridges.removeBridge(a.link.name, a.link.index, a.network);
        return;
    }
  }
}

function problemsOf(failures: PassReport['failures']): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of failures) {
    const n = networkOf(f.action);
    if (n !== undefined && !out.has(n)) out.set(n, `${f.action.op}: ${f.error}`);
  }
  return out;
}
