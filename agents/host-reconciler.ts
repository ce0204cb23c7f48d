// Brings the host namespace in line with the plan and the endpoint records:
// render -> observe -> diff (pure, reconcile/host-diff.ts) -> apply -> report
// status. Each pass reads everything again, so apply keeps no undo state;
// a failed action is retried by the next pass. Passes never overlap: a
// trigger during a pass queues exactly one more.
import { inject, injectable } from 'inversify';
import type { AgentMessage } from '../model/agent-protocol.js';
import { errorMessage } from '../model/errors.js';
import { AGENT_CONFIG, AGENT_LOGGER, HOST_HANDLE, type AgentConfig, type AgentLogger } from './agent-config.js';
import { BridgeManager } from './bridges/bridge-manager.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from './controller-uplink.js';
import type { AddrInfo, NetnsHandle } from './datapath/port.js';
import { EndpointService } from './endpoints/endpoint-service.js';
import { BRIDGE_PREFIX } from '../model/kernel-names.js';
import { diffHost, renderHost, type HostAction } from './reconcile/host-diff.js';
import { EndpointStore } from './state/endpoint-store.js';
import { PlanState } from './state/plan-state.js';

export interface PassReport {
  revision: number;
  actions: HostAction[];
  failures: { action: HostAction; error: string }[];
}

interface Waiter {
  gen: number;
  resolve: () => void;
}

function networkOf(a: HostAction): string | undefined {
  switch (a.op) {
    case 'ensureBridge':
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
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The last pass's outcome (health and tests read it). */
  lastPass: PassReport | undefined;

  constructor(
    @inject(AGENT_CONFIG) private readonly config: Pick<AgentConfig, 'resyncMs'>,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(BridgeManager) private readonly bridges: BridgeManager,
    @inject(EndpointService) private readonly endpoints: EndpointService,
    @inject(CONTROLLER_UPLINK) private readonly uplink: ControllerUplink,
  ) {}

  /** Reconcile on every plan change and periodically (drift nobody told us about). */
  start(): void {
    this.unsubscribe ??= this.plan.onChange(() => void this.reconcile());
    if (!this.timer && this.config.resyncMs > 0) {
      this.timer = setInterval(() => void this.reconcile(), this.config.resyncMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.loop;
  }

  /** Resolves after a pass that started after this call has finished. */
  reconcile(): Promise<void> {
    const gen = ++this.requested;
    const settled = new Promise<void>((resolve) => this.waiters.push({ gen, resolve }));
    if (!this.running) {
      this.running = true;
      this.loop = this.run();
    }
    return settled;
  }

  private async run(): Promise<void> {
    // `running` is cleared in the same synchronous step as the last loop
    // check, so a reconcile() called by a resolved waiter starts a new run.
    while (this.done < this.requested) {
      const gen = this.requested;
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
    }
    this.running = false;
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
    const links = await this.host.listLinks();
    const bridgeAddrs = new Map<number, AddrInfo[]>();
    for (const l of links) {
      if (l.kind === 'bridge' && l.name.startsWith(BRIDGE_PREFIX)) bridgeAddrs.set(l.index, await this.host.listAddrs(l.index));
    }
    // Records and busy names are read together, after the links, so an
    // attach that finished in between is seen as a record, not an orphan.
    const records = this.store.list();
    const busy = this.endpoints.busyHostIfnames();
    const actions = diffHost(renderHost(plan, records), { links, bridgeAddrs, busy });
    const failures: PassReport['failures'] = [];
    for (const action of actions) {
      try {
        await this.apply(action);
      } catch (e: unknown) {
        failures.push({ action, error: errorMessage(e) });
        this.log.error({ op: action.op, err: errorMessage(e) }, 'reconcile action failed');
      }
    }
    if (actions.length > 0) this.log.info({ actions: actions.map((a) => a.op), failures: failures.length }, 'reconciled host');
    if (plan) {
      this.plan.appliedRevision = plan.revision;
      this.uplink.send(this.status(plan.revision, plan.networks.map((n) => n.name), failures));
    }
    return { revision: plan?.revision ?? 0, actions, failures };
  }

  private status(revision: number, networks: string[], failures: PassReport['failures']): AgentMessage {
    const out: Record<string, { ready: boolean; message?: string }> = {};
    for (const n of networks) out[n] = { ready: true };
    for (const f of failures) {
      const n = networkOf(f.action);
      if (n !== undefined && out[n]) out[n] = { ready: false, message: `${f.action.op}: ${f.error}` };
    }
    return { type: 'status', appliedRevision: revision, networks: out };
  }

  private async apply(a: HostAction): Promise<void> {
    switch (a.op) {
      case 'ensureBridge':
        this.bridges.invalidate(a.network.name); // the cache said fine, the kernel says otherwise
        await this.bridges.ensureBridge(a.network);
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
