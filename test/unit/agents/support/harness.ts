// Builds the agent's services by hand (constructor injection, no container)
// around a fake kernel, a temp state dir and a stub controller uplink.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AgentMessage, EndpointReport, HostPlan, PlanBlock, PlanDelta, PlanNetwork, PlanReservation } from '../../../../model/agent-protocol.js';
import { WeftError } from '../../../../model/errors.js';
import { bridgeName, gatewayMac, vxlanName } from '../../../../model/kernel-names.js';
import { emptyPlanDelta } from '../../../../model/plan-delta.js';
import type { AgentConfig } from '../../../../agents/agent-config.js';
import { BridgeManager } from '../../../../agents/bridges/bridge-manager.js';
import type { ControllerUplink } from '../../../../agents/controller-uplink.js';
import { CniService } from '../../../../agents/cni/cni-service.js';
import { EndpointService } from '../../../../agents/endpoints/endpoint-service.js';
import { IsolationReconciler } from '../../../../agents/reconcile/isolation-reconciler.js';
import { NetworkReconciler } from '../../../../agents/reconcile/network-reconciler.js';
import { ReconcileLoop } from '../../../../agents/reconcile/reconcile-loop.js';
import { BlockAllocator } from '../../../../agents/ipam/block-allocator.js';
import { OverlayManager } from '../../../../agents/overlay/overlay-manager.js';
import { Underlay } from '../../../../agents/overlay/underlay.js';
import { EndpointStore } from '../../../../agents/state/endpoint-store.js';
import { PlanState } from '../../../../agents/state/plan-state.js';
import { TestKernel } from './test-kernel.js';

export const silentLogger = pino({ level: 'silent' });

export class StubUplink implements ControllerUplink {
  connected = true;
  readonly sent: AgentMessage[] = [];
  /** Blocks handed out by requestBlock, in order; none left -> Exhausted. */
  grantable: PlanBlock[] = [];
  blockRequests = 0;
  staticRequests: { network: string; ip: string; owner: string }[] = [];
  staticAnswer: (network: string, ip: string, owner: string) => Promise<PlanReservation> = async (network, ip, owner) => ({ network, ip, owner });

  send(msg: AgentMessage): void {
    this.sent.push(msg);
  }

  async requestBlock(network: string): Promise<PlanBlock> {
    this.blockRequests++;
    if (!this.connected) throw new WeftError('NotReady', 'not connected');
    await new Promise((r) => setTimeout(r, 1));
    const i = this.grantable.findIndex((b) => b.network === network);
    if (i < 0) throw new WeftError('Exhausted', `controller: network ${network} has no free block`);
    const [block] = this.grantable.splice(i, 1);
    return block as PlanBlock;
  }

  async requestStatic(network: string, ip: string, owner: string): Promise<PlanReservation> {
    if (!this.connected) throw new WeftError('NotReady', 'not connected');
    this.staticRequests.push({ network, ip, owner });
    return this.staticAnswer(network, ip, owner);
  }

  /** What announceEndpoint answers; by default at once, nobody late. */
  announceAnswer: () => Promise<{ late: string[] }> = async () => ({ late: [] });

  async announceEndpoint(endpoint: EndpointReport, _timeoutMs: number): Promise<{ late: string[] }> {
    if (!this.connected) throw new WeftError('NotReady', 'not connected');
    this.sent.push({ type: 'endpointUp', endpoint, requestId: `announce-${this.sent.length}` });
    return this.announceAnswer();
  }

  ofType<T extends AgentMessage['type']>(type: T): Extract<AgentMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<AgentMessage, { type: T }> => m.type === type);
  }
}

export function planNetwork(name: string, vni: number, subnet = '100.64.0.0/24', gateway = '100.64.0.1', mtu = 1450): PlanNetwork {
  return {
    name, vni, subnet, prefixLength: Number(subnet.split('/')[1]), gateway, mtu, bridge: bridgeName(vni), vxlan: vxlanName(vni), gatewayMac: gatewayMac(vni),
  };
}

export function testPlan(over: Partial<HostPlan> = {}): HostPlan {
  return {
    host: 'h1',
    revision: 1,
    networks: [planNetwork('blue', 0x10)],
    blocks: [{ network: 'blue', cidr: '100.64.0.0/26' }],
    reservations: [],
    flood: [],
    remoteEndpoints: [],
    firewallPolicies: [],
    addressSets: [],
    vnfs: [],
    networkRoutes: [],
    ...over,
  };
}

export function emptyDelta(): PlanDelta {
  return emptyPlanDelta();
}

export function testConfig(stateDir: string): AgentConfig {
  return {
    name: 'h1',
    controller: 'ws://127.0.0.1:1',
    tokenFile: join(stateDir, 'token'),
    socketPath: join(stateDir, 'agent.sock'),
    stateDir,
    agentVersion: 'test',
    requestTimeoutMs: 500,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    heartbeatMs: 1000,
    resyncMs: 0,
    firstPlanWaitMs: 500,
  };
}

export interface Harness {
  dir: string;
  config: AgentConfig;
  dp: TestKernel;
  store: EndpointStore;
  plan: PlanState;
  uplink: StubUplink;
  allocator: BlockAllocator;
  bridges: BridgeManager;
  underlay: Underlay;
  overlay: OverlayManager;
  endpoints: EndpointService;
  cni: CniService;
  /** the reconcile loop, with the isolation and network sub-reconcilers */
  reconciler: ReconcileLoop;
  network: NetworkReconciler;
  /** A fresh workload namespace in the fake kernel; returns its path. */
  netns(name?: string): Promise<string>;
  /** Rebuild every service over the same state dir and kernel (an agent restart). */
  restart(): Harness;
  cleanup(): void;
}

let nsCounter = 0;

/** The VTEP address of the harness's host: on lo of the fake host namespace, so it resolves. */
export const TEST_VTEP = '127.0.0.1';

export function makeHarness(opts: { plan?: HostPlan | null; dir?: string; dp?: TestKernel; underlayAddress?: string | null } = {}): Harness {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'weft-agent-'));
  const config = testConfig(dir);
  if (opts.underlayAddress !== null) config.underlayAddress = opts.underlayAddress ?? TEST_VTEP;
  const dp = opts.dp ?? new TestKernel();
  const store = new EndpointStore(config);
  if (opts.plan !== null && opts.dir === undefined) store.savePlan(opts.plan ?? testPlan());
  const plan = new PlanState(store);
  const uplink = new StubUplink();
  const allocator = new BlockAllocator(plan, store, uplink);
  const host = dp.host();
  const bridges = new BridgeManager(host);
  const underlay = new Underlay(config, host, store, silentLogger);
  const overlay = new OverlayManager(host, bridges, underlay, silentLogger);
  const endpoints = new EndpointService(dp, host, store, plan, allocator, overlay, uplink, silentLogger);
  const cni = new CniService(endpoints, store, plan, dp, host, silentLogger);
  const network = new NetworkReconciler(silentLogger, host, store, plan, bridges, overlay, underlay, endpoints);
  const reconciler = new ReconcileLoop(config, silentLogger, plan, store, uplink, [new IsolationReconciler(silentLogger, bridges), network]);
  const h: Harness = {
    dir, config, dp, store, plan, uplink, allocator, bridges, underlay, overlay, endpoints, cni, reconciler, network,
    netns(name?: string) {
      return dp.workload(name ?? `ws${++nsCounter}`);
    },
    restart() {
      store.close();
      return makeHarness(opts.underlayAddress === undefined ? { dir, dp } : { dir, dp, underlayAddress: opts.underlayAddress });
    },
    cleanup() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
