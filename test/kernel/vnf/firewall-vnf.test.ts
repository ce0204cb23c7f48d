// The Firewall VNF on a real kernel, driven through the agent's pieces
// directly (VnfHost with the Firewall's driver + EndpointRoutes, given a plan): the namespace,
// its interfaces on two bridges, forwarding and the nft table, judged by
// real packets between workloads on the two networks; then adoption by a
// new host object (an agent restart) and removal.
//
// Lab (namespaces wt<pid>fv-*, and the firewall's wn.<host>.firewall.fw1):
//   host ns: bridges of networks na 100.64.51.0/24 and nb 100.64.52.0/24
//            (BridgeManager: gateways .1), the weft isolation table,
//            ip_forward on (so only isolation keeps the host from routing)
//   a 100.64.51.11 on na, b 100.64.52.12 on nb (veths on the bridges)
//   firewall fw1: 100.64.51.254 on na, 100.64.52.254 on nb
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import type { HostPlan, PlanNetwork } from '../../../model/agent-protocol.js';
import { bridgeName, gatewayMac, vxlanName } from '../../../model/kernel-names.js';
import type { PlanFirewallSpec, PlanPerimeterRule } from '../../../model/firewall-vnf.js';
import { VNF_PORT_TABLE, vnfHostVethName, vnfIfname, vnfMac, vnfNetnsName } from '../../../model/vnf-names.js';
import type { PlanVnf } from '../../../model/vnf-protocol.js';
import { FIREWALL_VNF_TABLE } from '../../../vnf/firewall/render-table.js';
import { BridgeManager } from '../../../agents/bridges/bridge-manager.js';
import { NetlinkDatapath } from '../../../agents/datapath/netlink/netlink-datapath.js';
import { NftIsolationTable } from '../../../agents/datapath/nft/nft-isolation-table.js';
import { NftRunner } from '../../../agents/datapath/nft/nft-runner.js';
import type { NetnsHandle } from '../../../agents/datapath/port.js';
import type { EndpointRecord } from '../../../agents/state/endpoint-store.js';
import { EndpointRoutes } from '../../../agents/endpoints/endpoint-routes.js';
import { VnfHost } from '../../../agents/vnf/vnf-host.js';
import { VnfProcesses } from '../../../agents/vnf/vnf-processes.js';
import { netnsAdd } from '../../support/test-lab.js';

const execFileP = promisify(execFile);
const PREFIX = `wt${process.pid % 100000}fv-`;
const HOST = `${PREFIX}h`;
const HOST_PATH = `/run/netns/${HOST}`;
const FW = { kind: 'Firewall', name: 'fw1' };
const FW_NETNS = vnfNetnsName(HOST, FW);
const IP = { a: '100.64.51.11', b: '100.64.52.12' } as const;
type W = keyof typeof IP;

jest.setTimeout(90_000);

const created: string[] = [];
const servers: ChildProcess[] = [];
const silent = { info: () => {}, error: () => {} };
const nftAt = (path: string) => new NftRunner({ netns: path });
const hostNft = new NftRunner({ netns: HOST_PATH });
const processes = new VnfProcesses({ stateDir: `/run/weft-test-${PREFIX}` });

async function run(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(cmd, args);
  return stdout;
}

async function addNetns(name: string): Promise<void> {
  created.push(name); // removed in afterAll, also when what follows fails
  await netnsAdd(name);
}

function network(name: string, vni: number, third: number): PlanNetwork {
  return {
    name,
    vni,
    subnet: `100.64.${third}.0/24`,
    prefixLength: 24,
    gateway: `100.64.${third}.1`,
    mtu: 1500,
    bridge: bridgeName(vni),
    vxlan: vxlanName(vni),
    gatewayMac: gatewayMac(vni),
  };
}

const NA = network('na', 0x5151, 51);
const NB = network('nb', 0x5252, 52);

/** A workload on `net`: a veth whose host side is on the network's bridge, address, default route via the gateway. */
async function addWorkload(w: W, net: PlanNetwork): Promise<EndpointRecord> {
  const ns = `${PREFIX}${w}`;
  await addNetns(ns);
  const hostIf = `wv-t51${w}`;
  await run('ip', ['-n', HOST, 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run('ip', ['-n', HOST, 'link', 'set', hostIf, 'master', net.bridge, 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${IP[w]}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', net.gateway]);
  return {
    name: `${w}.eth0`,
    network: net.name,
    containerId: w,
    ifname: 'eth0',
    ip: IP[w],
    mac: '',
    hostIfname: hostIf,
    netns: `/run/netns/${ns}`,
    labels: {},
    state: 'attached',
    prefixLength: 24,
    gateway: net.gateway,
    mtu: 1500,
  };
}

function listen(w: W, port: number): void {
  servers.push(spawn('ip', ['netns', 'exec', `${PREFIX}${w}`, 'busybox', 'nc', '-ll', '-p', String(port), '-e', 'echo', 'ok'], { stdio: 'ignore' }));
}

/** 'ok': answered; 'refused': reset or ICMP error; 'timeout': no answer within 1 s (dropped). */
async function tcp(from: W, to: W, port: number): Promise<'ok' | 'refused' | 'timeout'> {
  const started = Date.now();
  try {
    const out = await run('ip', ['netns', 'exec', `${PREFIX}${from}`, 'busybox', 'nc', '-w', '1', IP[to], String(port)]);
    return out.includes('ok') ? 'ok' : 'refused';
  } catch (e: unknown) {
    const stderr = String((e as { stderr?: string }).stderr ?? '');
    if (/refused|unreachable|prohibited/i.test(stderr) || Date.now() - started < 800) return 'refused';
    return 'timeout';
  }
}

async function ping(from: W, to: W): Promise<boolean> {
  try {
    await run('ip', ['netns', 'exec', `${PREFIX}${from}`, 'ping', '-c', '1', '-W', '1', IP[to]]);
    return true;
  } catch {
    return false;
  }
}

const rule = (r: Partial<PlanPerimeterRule> & Pick<PlanPerimeterRule, 'name' | 'action'>): PlanPerimeterRule => ({ protocol: 'any', ...r });
const A_TO_B = { from: [{ cidr: NA.subnet }], to: [{ cidr: NB.subnet }] };

function firewall(rules: PlanPerimeterRule[], generation = 1): PlanVnf<PlanFirewallSpec> {
  const iface = (net: PlanNetwork, ip: string) => ({
    network: net.name,
    ip,
    prefixLength: 24,
    mac: vnfMac(FW, net.name),
    mtu: net.mtu,
    hostIfname: vnfHostVethName(FW, net.name),
    ifname: vnfIfname(net.name),
  });
  return {
    ...FW,
    generation,
    netns: FW_NETNS,
    interfaces: [iface(NA, '100.64.51.254'), iface(NB, '100.64.52.254')],
    spec: { defaultAction: 'deny', rules, addressSets: [] },
  };
}

const RULES = [
  rule({ name: 'web', action: 'allow', protocol: 'tcp', ports: [[8080, 8080]], ...A_TO_B }),
  rule({ name: 'closed', action: 'reject', protocol: 'tcp', ports: [[9090, 9090]], ...A_TO_B }),
  rule({ name: 'ping', action: 'allow', protocol: 'icmp', ...A_TO_B }),
];

function plan(fw: PlanVnf<PlanFirewallSpec> | undefined, revision: number): HostPlan {
  const p: HostPlan = {
    host: HOST,
    revision,
    networks: [NA, NB],
    blocks: [],
    reservations: [],
    flood: [],
    remoteEndpoints: [],
    firewallPolicies: [],
    addressSets: [],
    vnfs: [],
    networkRoutes: [],
  };
  if (fw) {
    p.vnfs = [fw];
    const [ia, ib] = fw.interfaces as [PlanVnf['interfaces'][number], PlanVnf['interfaces'][number]];
    p.networkRoutes = [
      { network: 'na', dst: NB.subnet, via: ia.ip, owner: 'Firewall/fw1' },
      { network: 'nb', dst: NA.subnet, via: ib.ip, owner: 'Firewall/fw1' },
    ];
  }
  return p;
}

const report = (h: VnfHost) => h.reports().find((r) => r.name === 'fw1');

async function ipJson<T>(args: string[]): Promise<T> {
  const out = await run('ip', ['-j', ...args]);
  return (out.trim() === '' ? [] : JSON.parse(out)) as T;
}

async function netnsNames(): Promise<string[]> {
  return (await ipJson<{ name: string }[]>(['netns', 'list'])).map((n) => n.name);
}

describe('Firewall VNF on a real kernel', () => {
  const datapath = new NetlinkDatapath();
  let host: NetnsHandle;
  let bridges: BridgeManager;
  let vnfs: VnfHost;
  let routes: EndpointRoutes;
  const records: EndpointRecord[] = [];

  beforeAll(async () => {
    await addNetns(HOST);
    await run('ip', ['netns', 'exec', HOST, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    host = await datapath.at(HOST_PATH);
    bridges = new BridgeManager(host, new NftIsolationTable(HOST_PATH));
    await bridges.isolate([NA.bridge, NB.bridge]);
    await bridges.ensureBridge(NA);
    await bridges.ensureBridge(NB);
    records.push(await addWorkload('a', NA), await addWorkload('b', NB));
    for (const port of [8080, 8081, 9090]) listen('b', port);
    vnfs = new VnfHost(datapath, host, bridges, silent, processes, nftAt, hostNft);
    routes = new EndpointRoutes(datapath, silent);
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    host?.close();
    datapath.close();
    await run('ip', ['netns', 'del', FW_NETNS]).catch(() => undefined);
    for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('without a firewall, the networks cannot reach each other through the host (isolation)', async () => {
    await run('ip', ['-n', `${PREFIX}a`, 'route', 'replace', NB.subnet, 'via', NA.gateway]);
    expect(await ping('a', 'b')).toBe(false);
    await run('ip', ['-n', `${PREFIX}a`, 'route', 'del', NB.subnet]);
  });

  it('creates the namespace, its interfaces on both bridges, forwarding and the table', async () => {
    const p = plan(firewall(RULES), 1);
    await vnfs.sync(p);
    await routes.sync(p, records);
    expect(await netnsNames()).toContain(FW_NETNS);
    const inside = await ipJson<Array<{ ifname: string; address: string; addr_info: Array<{ local: string }>; operstate: string }>>(['-n', FW_NETNS, 'addr', 'show']);
    const byName = new Map(inside.map((l) => [l.ifname, l]));
    expect(byName.get(vnfIfname('na'))?.addr_info.map((a) => a.local)).toContain('100.64.51.254');
    expect(byName.get(vnfIfname('nb'))?.addr_info.map((a) => a.local)).toContain('100.64.52.254');
    expect(byName.get(vnfIfname('na'))?.address).toBe(vnfMac(FW, 'na'));
    const hostSide = await ipJson<Array<{ ifname: string; master?: string }>>(['-n', HOST, 'link', 'show', vnfHostVethName(FW, 'na')]);
    expect(hostSide[0]?.master).toBe(NA.bridge);
    expect((await run('ip', ['netns', 'exec', FW_NETNS, 'cat', '/proc/sys/net/ipv4/ip_forward'])).trim()).toBe('1');
    expect(await new NftRunner({ netns: `/run/netns/${FW_NETNS}` }).list(FIREWALL_VNF_TABLE)).toBeDefined();
    // the host tracks the firewall's traffic once, where it enters from a workload (vnf/port-table.ts)
    expect(await hostNft.list(VNF_PORT_TABLE, 'bridge')).toBeDefined();
    expect(report(vnfs)).toMatchObject({ generation: 1, ready: true });
    const aRoutes = await ipJson<Array<{ dst: string; gateway?: string }>>(['-n', `${PREFIX}a`, 'route', 'show']);
    expect(aRoutes).toContainEqual(expect.objectContaining({ dst: NB.subnet, gateway: '100.64.51.254' }));
  });

  it('lets an allowed TCP port through, and its replies', async () => {
    expect(await tcp('a', 'b', 8080)).toBe('ok');
  });

  it('rejects a port a reject rule names, and drops what no rule allows (default deny)', async () => {
    expect(await tcp('a', 'b', 9090)).toBe('refused');
    expect(await tcp('a', 'b', 8081)).toBe('timeout');
  });

  it('answers pings per rule: a to b allowed, b to a not (no rule; replies of a\'s pings pass)', async () => {
    expect(await ping('a', 'b')).toBe(true);
    expect(await ping('b', 'a')).toBe(false);
  });

  it('counts per rule', async () => {
    await vnfs.sync(plan(firewall(RULES), 1));
    const counters = new Map((report(vnfs)?.counters ?? []).map((c) => [c.rule, c.packets]));
    expect([...counters.keys()]).toEqual(['web', 'closed', 'ping', 'default']);
    expect(counters.get('web')).toBeGreaterThan(0);
    expect(counters.get('closed')).toBeGreaterThan(0);
    expect(counters.get('ping')).toBeGreaterThan(0);
    expect(counters.get('default')).toBeGreaterThan(0);
  });

  it('applies a rule change to the next connection (the table is replaced in one transaction)', async () => {
    const opened = [rule({ name: 'web', action: 'allow', protocol: 'tcp', ports: [[8080, 8081]], ...A_TO_B }), ...RULES.slice(1)];
    await vnfs.sync(plan(firewall(opened, 2), 2));
    expect(await tcp('a', 'b', 8081)).toBe('ok');
    expect(report(vnfs)?.generation).toBe(2);
  });

  it('is adopted by a restarted agent without a window: the table stays while no agent runs', async () => {
    const restarted = new VnfHost(datapath, host, bridges, silent, processes, nftAt, hostNft);
    // Between the two agents: still filtered.
    expect(await tcp('a', 'b', 9090)).toBe('refused');
    expect(await tcp('a', 'b', 8080)).toBe('ok');
    await restarted.sync(plan(firewall(RULES, 3), 3));
    expect(report(restarted)).toMatchObject({ generation: 3, ready: true });
    expect(await tcp('a', 'b', 8080)).toBe('ok');
    expect(await tcp('a', 'b', 8081)).toBe('timeout');
    vnfs = restarted;
  });

  it('deletion leaves nothing: namespace, veths and the routes through it go', async () => {
    const p = plan(undefined, 4);
    await vnfs.sync(p);
    await routes.sync(p, records);
    expect(await netnsNames()).not.toContain(FW_NETNS);
    const links = await ipJson<Array<{ ifname: string }>>(['-n', HOST, 'link', 'show']);
    expect(links.filter((l) => l.ifname.startsWith('wf-'))).toEqual([]);
    const aRoutes = await ipJson<Array<{ dst: string }>>(['-n', `${PREFIX}a`, 'route', 'show']);
    expect(aRoutes.map((r) => r.dst)).not.toContain(NB.subnet);
    expect(vnfs.reports()).toEqual([]);
    expect(await hostNft.list(VNF_PORT_TABLE, 'bridge')).toBeUndefined();
    expect(await ping('a', 'b')).toBe(false);
  });
});
