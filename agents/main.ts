// Composition root of the agent: the one place that builds the inversify
// container. Start-up order matters: the socket is served only after the
// first reconcile pass, which uses the controller's plan when it answers in
// time and the cached plan otherwise.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESS_SUPERVISOR, type ProcessSupervisor } from './datapath/process-supervisor.js';
import 'reflect-metadata';
import { Container } from 'inversify';
import { pino } from 'pino';
import { AGENT_REQUEST_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, type HostPlan } from '../model/agent-protocol.js';
import { DEFAULT_AGENT_SOCKET } from '../model/agent-rpc.js';
import { WeftError, errorMessage } from '../model/errors.js';
import { isIPv4 } from '../model/ip.js';
import { DNS_LABEL_PATTERN } from '../model/meta.js';
import { AGENT_CONFIG, AGENT_LOGGER, HOST_HANDLE, type AgentConfig, type AgentLogger } from './agent-config.js';
import { BridgeManager } from './bridges/bridge-manager.js';
import { ControllerLink, connectUrl, readToken } from './controller-link.js';
import { CONTROLLER_UPLINK } from './controller-uplink.js';
import type { NetlinkDatapath } from './datapath/netlink/netlink-datapath.js';
import { DATAPATH_FACTORY, type DatapathFactory, type NetnsHandle } from './datapath/port.js';
import { ISOLATION_TABLE, type IsolationTable } from './datapath/isolation-table-port.js';
import { ensureBridgeNetfilter } from './datapath/bridge-netfilter.js';
import { POLICY_TABLE_PORT, PORT_GUARD, type PolicyTable, type PortGuard } from './datapath/policy-table-port.js';
import { PolicyEnforcer } from './firewall/policy-enforcer.js';
import { FirewallLog } from './firewall/firewall-log.js';
import { DEFAULT_LOG_GROUP } from './datapath/nft/policy-ruleset.js';
import { SpoofGuard } from './firewall/spoof-guard.js';
import { CniService } from './cni/cni-service.js';
import { EndpointService } from './endpoints/endpoint-service.js';
import { ReconcileLoop, SUB_RECONCILERS } from './reconcile/reconcile-loop.js';
import { SUB_RECONCILER_CLASSES } from './reconcile/sub-reconcilers.js';
import { BlockAllocator } from './ipam/block-allocator.js';
import { LoanConfirmer } from './ipam/loan-confirmer.js';
import { OverlayManager } from './overlay/overlay-manager.js';
import { Underlay } from './overlay/underlay.js';
import { AgentRpcHandlers, RPC_HANDLERS } from './rpc/rpc-handlers.js';
import { RpcServer } from './rpc/rpc-server.js';
import { removeAgentPidfile, writeAgentPidfile } from './state/agent-pidfile.js';
import { EndpointStore, type EndpointRecord } from './state/endpoint-store.js';
import { HostReset } from './reset/host-reset.js';
import { PlanState } from './state/plan-state.js';
import { EndpointRoutes } from './endpoints/endpoint-routes.js';
import { VNF_CONNTRACK, VNF_HOST_NFT, VNF_NFT_FACTORY, VnfHost, type VnfConntrack, type VnfNft, type VnfNftFactory } from './vnf/vnf-host.js';
import { VnfProcesses } from './vnf/vnf-processes.js';

const AGENT_VERSION = '0.1.0';

export type AgentTuning = Partial<
  Pick<AgentConfig, 'requestTimeoutMs' | 'reconnectMinMs' | 'reconnectMaxMs' | 'heartbeatMs' | 'resyncMs' | 'firstPlanWaitMs'>
>;

export interface StartAgentOptions {
  /** ws(s)/http(s) URL of the controller */
  controller: string;
  name: string;
  tokenFile: string;
  /** default /run/weft/agent.sock */
  socket?: string;
  /** default /var/lib/weft/agent-<name> */
  stateDir?: string;
  /** default NetlinkDatapath (the real kernel) */
  datapath?: DatapathFactory;
  /** default NftIsolationTable with the real datapath, none with an injected one */
  isolation?: IsolationTable;
  /** path of the namespace the agent's bridges live in; default the agent's own */
  hostNetns?: string;
  /** IPv4 underlay (VTEP) address; default the local address of the controller connection */
  underlayAddress?: string;
  logLevel?: string;
  /** timeouts and intervals; tests shorten them */
  tuning?: AgentTuning;
}

export interface RunningAgent {
  close(): Promise<void>;
  socketPath: string;
}

const DEFAULT_TUNING: Required<AgentTuning> = {
  requestTimeoutMs: AGENT_REQUEST_TIMEOUT_MS,
  reconnectMinMs: 200,
  reconnectMaxMs: 5_000,
  heartbeatMs: HEARTBEAT_INTERVAL_MS,
  resyncMs: 30_000,
  firstPlanWaitMs: 3_000,
};

export async function startAgent(opts: StartAgentOptions): Promise<RunningAgent> {
  if (!new RegExp(DNS_LABEL_PATTERN).test(opts.name) || opts.name.length > 63) {
    throw new WeftError('Invalid', `agent name ${JSON.stringify(opts.name)} must be a DNS label (lowercase letters, digits, "-")`, {
      details: [{ path: '/name', message: 'not a DNS label', value: opts.name }],
    });
  }
  if (opts.underlayAddress !== undefined && !isIPv4(opts.underlayAddress)) {
    throw new WeftError('Invalid', `underlay address ${JSON.stringify(opts.underlayAddress)} is not an IPv4 address (the overlay runs VXLAN over IPv4)`, {
      details: [{ path: '/underlayAddress', message: 'not an IPv4 address', value: opts.underlayAddress }],
    });
  }
  connectUrl(opts.controller); // refuse a bad URL now rather than retry it forever
  await readToken(opts.tokenFile); // and an unreadable token file
  const config: AgentConfig = {
    name: opts.name,
    controller: opts.controller,
    tokenFile: opts.tokenFile,
    socketPath: opts.socket ?? DEFAULT_AGENT_SOCKET,
    stateDir: opts.stateDir ?? `/var/lib/weft/agent-${opts.name}`,
    agentVersion: AGENT_VERSION,
    ...(opts.underlayAddress === undefined ? {} : { underlayAddress: opts.underlayAddress }),
    ...DEFAULT_TUNING,
    ...opts.tuning,
  };
  // stderr: stdout stays free for whoever runs us; sync so a crash loses nothing.
  const logger = pino({ level: opts.logLevel ?? 'info', base: { component: 'agent', host: opts.name } }, pino.destination({ dest: 2, sync: true }));

  let datapath = opts.datapath;
  let ownDatapath: NetlinkDatapath | undefined;
  if (!datapath) {
    // Loaded only when needed: it pulls in the native netlink and koffi modules.
    ownDatapath = new (await import('./datapath/netlink/netlink-datapath.js')).NetlinkDatapath();
    datapath = ownDatapath;
  }
  // Our own kernel datapath gets a dedicated bridge-namespace handle whose
  // deletions run off the event loop; an injected one is used as it is.
  const agentHandle = ownDatapath?.openAgentHandle(opts.hostNetns);
  const hostHandle: NetnsHandle = agentHandle ?? (opts.hostNetns ? await datapath.at(opts.hostNetns) : datapath.host());

  let c: Container;
  try {
    // Network isolation: nftables in the bridge namespace with our own
    // datapath; an injected datapath brings its own isolation table, or none.
    const isolation = opts.isolation ?? (ownDatapath ? new (await import('./datapath/nft/nft-isolation-table.js')).NftIsolationTable(opts.hostNetns) : undefined);
    const tables: DatapathParts = isolation ? { isolation } : {};
    if (ownDatapath) {
      // FirewallPolicy enforcement and anti-spoofing: nftables in the bridge namespace, our own datapath only.
      tables.policies = (await import('./datapath/nft/nft-policy-table.js')).NftPolicyTable.at(opts.hostNetns);
      tables.guard = (await import('./datapath/nft/nft-guard.js')).NftGuard.at(opts.hostNetns);
      // VNFs: their port table in the bridge namespace (vnf/port-table.ts), and nft inside their namespaces.
      const { NftRunner } = await import('./datapath/nft/nft-runner.js');
      tables.vnfHostNft = new NftRunner({ ...(opts.hostNetns === undefined ? {} : { netns: opts.hostNetns }), keepContext: true });
      tables.vnfNft = (path) => new NftRunner({ netns: path });
      tables.conntrack = (await import('./datapath/netlink/conntrack-dump.js')).dumpConntrack;
      // VNF processes (HAProxy, dnsmasq, ...): real ones, adopted across agent restarts by their pidfiles here.
      const { LinuxProcessSupervisor } = await import('./datapath/process/linux-supervisor.js');
      tables.processes = new LinuxProcessSupervisor({ stateDir: join(config.stateDir, 'processes') });
      const problem = await ensureBridgeNetfilter(opts.hostNetns);
      if (problem !== undefined) logger.error(problem);
    }
    c = buildContainer(config, logger, datapath, hostHandle, tables);
  } catch (e: unknown) {
    if (opts.hostNetns || agentHandle) hostHandle.close();
    ownDatapath?.close();
    throw e;
  }
  const store = c.get(EndpointStore);
  writeAgentPidfile(config.stateDir); // the store made the directory
  const plan = c.get(PlanState);
  const link = c.get(ControllerLink);
  const reconciler = c.get(ReconcileLoop);
  const endpoints = c.get(EndpointService);
  const rpc = c.get(RpcServer);
  const loans = c.get(LoanConfirmer);

  let firewallLog: FirewallLog | undefined;
  const shutdown = async () => {
    firewallLog?.stop();
    await rpc.close();
    await reconciler.stop();
    await endpoints.drain();
    await link.stop();
    loans.stop();
    // The VNFs' processes go on running without us: the next agent adopts them.
    if (c.isBound(PROCESS_SUPERVISOR)) await c.get<ProcessSupervisor>(PROCESS_SUPERVISOR).close();
    store.close();
    removeAgentPidfile(config.stateDir);
    if (opts.hostNetns || agentHandle) hostHandle.close();
    ownDatapath?.close();
  };

  try {
    // The configured or remembered VTEP first: the first pass may need to
    // create VXLAN devices before the controller answers (or at all).
    await c.get(Underlay).init();
    // Before the link: the first plan may bring loans to confirm.
    loans.start();
    link.start();
    const fromController = await link.waitForFirstPlan(config.firstPlanWaitMs);
    logger.info(
      { revision: plan.current()?.revision, source: plan.source() ?? 'none' },
      fromController ? 'reconciling with the controller plan' : 'controller not reached yet; reconciling with the cached plan',
    );
    if (ownDatapath) {
      const enforcer = c.get(PolicyEnforcer);
      const { NflogReader } = await import('./datapath/nflog/nflog-reader.js');
      const to: { sink?: FirewallLog } = {};
      const reader = new NflogReader({ onPacket: (p) => to.sink?.onPacket(p), onError: (e) => logger.error({ err: errorMessage(e) }, 'firewall log reader stopped') });
      to.sink = new FirewallLog(reader, () => enforcer.current()?.logChains, c.get(ControllerLink), logger);
      to.sink.start(DEFAULT_LOG_GROUP, opts.hostNetns);
      firewallLog = to.sink;
    }
    reconciler.start(); // subscribe first: a plan arriving during the first pass queues another
    await reconciler.reconcile();
    await rpc.listen();
  } catch (e: unknown) {
    await shutdown().catch(() => {});
    throw e;
  }

  let closing: Promise<void> | undefined;
  return {
    socketPath: config.socketPath,
    close: () => (closing ??= shutdown()),
  };
}

interface DatapathParts {
  isolation?: IsolationTable;
  policies?: PolicyTable;
  guard?: PortGuard;
  vnfHostNft?: VnfNft;
  vnfNft?: VnfNftFactory;
  conntrack?: VnfConntrack;
  processes?: ProcessSupervisor;
}

function buildContainer(config: AgentConfig, logger: AgentLogger, datapath: DatapathFactory, hostHandle: NetnsHandle, tables: DatapathParts): Container {
  const c = new Container({ defaultScope: 'Singleton' });
  c.bind(AGENT_CONFIG).toConstantValue(config);
  c.bind(AGENT_LOGGER).toConstantValue(logger);
  c.bind(DATAPATH_FACTORY).toConstantValue(datapath);
  c.bind(HOST_HANDLE).toConstantValue(hostHandle);
  if (tables.isolation) c.bind(ISOLATION_TABLE).toConstantValue(tables.isolation);
  if (tables.policies) c.bind(POLICY_TABLE_PORT).toConstantValue(tables.policies);
  if (tables.guard) c.bind(PORT_GUARD).toConstantValue(tables.guard);
  c.bind(EndpointStore).toSelf();
  c.bind(PlanState).toSelf();
  c.bind(ControllerLink).toSelf();
  c.bind(CONTROLLER_UPLINK).toService(ControllerLink);
  c.bind(BlockAllocator).toSelf();
  c.bind(LoanConfirmer).toSelf();
  c.bind(BridgeManager).toSelf();
  c.bind(Underlay).toSelf();
  c.bind(OverlayManager).toSelf();
  c.bind(PolicyEnforcer).toSelf();
  c.bind(SpoofGuard).toSelf();
  c.bind(EndpointService).toSelf();
  c.bind(CniService).toSelf();
  if (tables.vnfHostNft) c.bind(VNF_HOST_NFT).toConstantValue(tables.vnfHostNft);
  if (tables.vnfNft) c.bind(VNF_NFT_FACTORY).toConstantValue(tables.vnfNft);
  if (tables.conntrack) c.bind(VNF_CONNTRACK).toConstantValue(tables.conntrack);
  if (tables.processes) c.bind(PROCESS_SUPERVISOR).toConstantValue(tables.processes);
  c.bind(VnfProcesses).toSelf();
  c.bind(VnfHost).toSelf();
  c.bind(EndpointRoutes).toSelf();
  for (const cls of SUB_RECONCILER_CLASSES) c.bind(cls).toSelf();
  c.bind(SUB_RECONCILERS).toDynamicValue((ctx) => SUB_RECONCILER_CLASSES.map((cls) => ctx.get(cls)));
  c.bind(ReconcileLoop).toSelf();
  c.bind(RPC_HANDLERS).to(AgentRpcHandlers);
  c.bind(RpcServer).toSelf();
  return c;
}

export interface OpenHostResetOptions {
  /** the agent's state directory */
  stateDir: string;
  /** the agent's host name; default the one its cached plan names, else defaultName */
  name?: string;
  defaultName: string;
}

export interface OpenedHostReset {
  reset: HostReset;
  /** the host name VNF namespaces are matched with */
  hostName: string;
  /** whether the state directory has agent state (endpoint records, a plan) */
  hasState: boolean;
  close(): void;
}

/**
 * The other composition of the agent's parts: `weft reset` on this host,
 * over the real kernel (the namespace this process runs in), nftables and
 * the state directory's process pidfiles. Reads the state directory's
 * records and plan, and closes it again before anything is removed.
 */
export async function openHostReset(opts: OpenHostResetOptions): Promise<OpenedHostReset> {
  const { NetlinkDatapath } = await import('./datapath/netlink/netlink-datapath.js');
  const { NftRunner } = await import('./datapath/nft/nft-runner.js');
  const { LinuxProcessSupervisor } = await import('./datapath/process/linux-supervisor.js');
  let records: EndpointRecord[] = [];
  let plan: HostPlan | undefined;
  const hasState = existsSync(join(opts.stateDir, 'agent.db'));
  if (hasState) {
    const store = new EndpointStore({ stateDir: opts.stateDir });
    try {
      records = store.list();
      plan = store.loadPlan();
    } finally {
      store.close();
    }
  }
  const hostName = opts.name ?? plan?.host ?? opts.defaultName;
  const datapath = new NetlinkDatapath();
  const processDir = join(opts.stateDir, 'processes');
  const processes = existsSync(processDir) ? new LinuxProcessSupervisor({ stateDir: processDir }) : undefined;
  const reset = new HostReset({
    host: datapath.host(),
    namespaces: datapath,
    nft: new NftRunner(),
    ...(processes ? { processes } : {}),
    hostName,
    stateDir: opts.stateDir,
    records,
    plan,
  });
  return {
    reset,
    hostName,
    hasState,
    close: () => {
      void processes?.close();
      datapath.close();
    },
  };
}
