// A VNF outlives its agent. A real controller and agent (SingleHostLab, the
// agent's datapath in a private namespace) run a Firewall between two
// networks; one TCP connection carries a message every 50 ms across it
// while the agent is killed with SIGKILL and started again. Judged by the
// kernel and the flow itself: the connection is never reset or closed,
// every message is answered, the data plane forwards while no agent runs,
// and the restarted agent adopts what it finds (the same namespace, the
// same interfaces by ifindex, one table, nothing doubled).
//
// The Firewall kind runs no process, so the second test drives the
// process half of adoption directly: LinuxProcessSupervisor + VnfProcesses
// start a process in a namespace, are thrown away without stopping it (an
// agent's death), and a new pair over the same state directory adopts the
// same pid instead of starting a second copy.
//
// Lab (names wt<pid>vr-*, plus the firewall's wn.h1.firewall.wt<pid>vr-fw):
//   networks vra 198.18.140.0/24 and vrb 198.18.141.0/24 on host h1
//   workload a on vra, b on vrb (attached through the agent's RPC)
//   Firewall: allow tcp 7140 vra -> vrb, icmp vra -> vrb, default deny
// Needs `npm run build` (the lab runs dist/).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { LinuxProcessSupervisor } from '../../../agents/datapath/process/linux-supervisor.js';
import { VnfProcesses } from '../../../agents/vnf/vnf-processes.js';
import { vnfIfname, vnfNetnsName, VNF_VETH_PREFIX } from '../../../model/vnf-names.js';
import { callAgent } from '../../../runtime/agent-client.js';
import { FIREWALL_FAMILY, FIREWALL_VNF_TABLE } from '../../../vnf/firewall/render-table.js';
import type { VnfWant } from '../../../vnf/vnf-driver.js';
import { execIn, ipJson, netnsAdd, netnsDel, netnsList, runPrefix, SingleHostLab, waitFor } from '../../support/test-lab.js';

jest.setTimeout(120_000);

const NET_A = { name: 'vra', subnet: '198.18.140.0/24' };
const NET_B = { name: 'vrb', subnet: '198.18.141.0/24' };
const PORT = 7140;
/** Hard bounds of the flow's processes: they end by themselves even if nobody stops them. */
const CLIENT_MAX_MS = 40_000;
const SERVER_MAX_MS = 60_000;

// One connection; a numbered line every 50 ms; counts the echoes, the
// largest gap between two echoes and anything that happens to the socket.
// Stops sending on "stop" (stdin) or at its bound, waits for the echoes
// still under way, prints a summary and closes the connection itself.
const CLIENT = `
const net = require('net');
const [host, port, maxMs] = process.argv.slice(1);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const s = net.connect({ host, port: Number(port) });
s.setNoDelay(true);
s.setEncoding('utf8');
let seq = 0, answered = 0, outOfOrder = 0, buf = '', started = 0, lastAt = 0, maxGap = 0, maxGapAt = 0, stopped = false, done = false;
const errors = [];
let tick, progress;
s.on('connect', () => {
  started = lastAt = Date.now();
  out({ event: 'connected', localPort: s.localPort });
  tick = setInterval(() => { seq++; s.write(seq + '\\n'); }, 50);
  progress = setInterval(() => out({ event: 'progress', sent: seq, answered }), 100);
});
s.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const n = Number(buf.slice(0, i));
    buf = buf.slice(i + 1);
    const now = Date.now();
    if (n !== answered + 1) outOfOrder++;
    answered++;
    if (now - lastAt > maxGap) [maxGap, maxGapAt] = [now - lastAt, now];
    lastAt = now;
  }
  if (stopped && answered >= seq) finish();
});
s.on('error', (e) => { errors.push(e.code || e.message); finish(); });
s.on('end', () => { if (!done) errors.push('the server ended the connection'); });
s.on('close', () => { if (!done) { errors.push('closed'); finish(); } });
function stop() {
  if (stopped) return;
  stopped = true;
  clearInterval(tick);
  if (answered >= seq) finish(); else setTimeout(finish, 5000);
}
function finish() {
  if (done) return;
  done = true;
  clearInterval(tick);
  clearInterval(progress);
  out({ event: 'done', sent: seq, answered, outOfOrder, maxGapMs: maxGap, maxGapAt, ms: started ? Date.now() - started : 0, errors });
  s.end();
  setTimeout(() => process.exit(0), 200);
}
process.stdin.on('data', (d) => { if (String(d).includes('stop')) stop(); });
setTimeout(stop, Number(maxMs));
`;

// Echoes every byte back; says when it accepts, and whatever happens to a connection.
const SERVER = `
const net = require('net');
const [host, port, maxMs] = process.argv.slice(1);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
net.createServer((c) => {
  out({ event: 'accepted', remotePort: c.remotePort });
  c.on('error', (e) => out({ event: 'error', error: e.code || e.message }));
  c.on('close', () => out({ event: 'closed' }));
  c.pipe(c);
}).listen(Number(port), host, () => out({ event: 'listening' }));
setTimeout(() => process.exit(0), Number(maxMs));
`;

interface FlowEvent {
  event: string;
  sent?: number;
  answered?: number;
  outOfOrder?: number;
  maxGapMs?: number;
  /** when the largest gap ended (epoch ms) */
  maxGapAt?: number;
  ms?: number;
  errors?: string[];
  error?: string;
}

/** A node script in a namespace (ip netns exec execs it: the pid is node's), its stdout as JSON lines. */
class NsScript {
  readonly child: ChildProcess;
  readonly events: FlowEvent[] = [];
  private stderr = '';

  constructor(ns: string, script: string, args: string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.events.push(JSON.parse(buf.slice(0, i)) as FlowEvent);
        buf = buf.slice(i + 1);
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  last(event: string): FlowEvent | undefined {
    return this.events.filter((e) => e.event === event).at(-1);
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  async waitFor(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<void> {
    await waitFor(`${what} (stderr: ${this.stderr.trim() || 'none'})`, async () => pred(), timeoutMs, 20);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
  }
}

/** A named namespace's identity: the inode of its bind mount (the number /proc/PID/ns/net shows). */
function netnsInode(name: string): number {
  return statSync(`/run/netns/${name}`).ino;
}

/** Live processes whose network namespace is `ino` (scanning /proc). */
function pidsInNetns(ino: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== `net:[${ino}]`) continue;
      // state is the field after the parenthesised comm
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort((a, b) => a - b);
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x) => x !== '');
  } catch {
    return [];
  }
}

/** nft -j output without what changes on its own (handles, counter values). */
function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== 'handle' && k !== 'packets' && k !== 'bytes') out[k] = stripVolatile(x);
  return out;
}

/** TCP segments retransmitted in a namespace so far (its /proc/net/snmp): for information only. */
async function tcpRetransmits(ns: string): Promise<number> {
  const lines = (await execIn(ns, ['cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const [names, values] = lines.map((l) => l.trim().split(/\s+/));
  const i = names?.indexOf('RetransSegs') ?? -1;
  return i < 0 ? NaN : Number(values?.[i]);
}

async function nftJson(ns: string, args: string[]): Promise<Array<Record<string, unknown>>> {
  const r = await execIn(ns, ['nft', '-j', ...args]);
  if (r.code !== 0) throw new Error(`nft ${args.join(' ')} in ${ns}: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { nftables: Array<Record<string, unknown>> };
  return doc.nftables.filter((o) => !('metainfo' in o));
}

async function tableNames(ns: string): Promise<string[]> {
  return (await nftJson(ns, ['list', 'tables'])).map((o) => {
    const t = o.table as { family: string; name: string };
    return `${t.family} ${t.name}`;
  }).sort();
}

interface LinkView {
  ifindex: number;
  ifname: string;
  address?: string;
  master?: string;
  ifalias?: string;
}

describe('a Firewall VNF and an agent killed with SIGKILL', () => {
  const lab = new SingleHostLab('vr');
  const FW = `${lab.prefix}fw`;
  const FW_NETNS = vnfNetnsName('h1', { kind: 'Firewall', name: FW });
  const scripts: NsScript[] = [];

  interface FirewallView {
    status?: { ready?: boolean; interfaces?: Array<{ network: string; ip: string }>; hosts?: Record<string, { ready: boolean; revision: number }>; conditions?: Array<{ reason: string; lastTransitionTime: string }> };
  }
  interface HostView {
    status?: { state?: string; appliedRevision?: number };
  }

  const getFirewall = () => lab.api<FirewallView>('GET', `/api/v1/firewalls/${FW}`);
  const getHost = () => lab.api<HostView>('GET', '/api/v1/hosts/h1');

  async function workload(tag: string, network: string): Promise<{ ns: string; ip: string }> {
    const ns = `${lab.prefix}${tag}`; // swept by lab.stop()
    const path = await netnsAdd(ns);
    const r = await callAgent(lab.socket, 'attach', { network, containerId: `${lab.prefix}${tag}`, netns: path });
    return { ns, ip: r.ip };
  }

  /** What the restart must leave exactly as it was. */
  async function snapshot(aNs: string) {
    const inside = await ipJson<LinkView[]>('-n', FW_NETNS, 'link', 'show');
    const host = await ipJson<LinkView[]>('-n', lab.hostNs, 'link', 'show');
    const table = await nftJson(FW_NETNS, ['list', 'table', FIREWALL_FAMILY, FIREWALL_VNF_TABLE]);
    const head = table.find((o) => 'table' in o)?.table as { handle: number } | undefined;
    const routesA = await ipJson<Array<{ dst: string; gateway?: string }>>('-n', aNs, 'route', 'show');
    const ino = netnsInode(FW_NETNS);
    const fromA = await ipJson<Array<{ stats64?: { rx?: { packets?: number } } }>>('-s', '-n', FW_NETNS, 'link', 'show', vnfIfname(NET_A.name));
    return {
      rxFromA: fromA[0]?.stats64?.rx?.packets ?? 0,
      netnsIno: ino,
      inside: inside.map((l) => `${l.ifindex} ${l.ifname} ${l.address ?? ''}`).sort(),
      hostVnfLinks: host.filter((l) => l.ifname.startsWith(VNF_VETH_PREFIX)).map((l) => `${l.ifindex} ${l.ifname} ${l.master ?? ''} ${l.ifalias ?? ''}`).sort(),
      hostLinks: host.map((l) => `${l.ifindex} ${l.ifname}`).sort(),
      tables: await tableNames(FW_NETNS),
      hostTables: await tableNames(lab.hostNs),
      tableHandle: head?.handle,
      tableHash: createHash('sha256').update(JSON.stringify(stripVolatile(table))).digest('hex').slice(0, 16),
      routesToB: routesA.filter((r) => r.dst === NET_B.subnet).map((r) => r.gateway),
      processes: pidsInNetns(ino),
    };
  }

  beforeAll(async () => {
    await lab.start();
    await lab.createNetwork(NET_A.name, NET_A.subnet);
    await lab.createNetwork(NET_B.name, NET_B.subnet);
  });

  afterAll(async () => {
    for (const s of scripts) s.kill();
    await lab.api('DELETE', `/api/v1/firewalls/${FW}`).catch(() => undefined);
    await waitFor('the firewall namespace to go', async () => !(await netnsList()).includes(FW_NETNS), 10_000).catch(() => undefined);
    await lab.stop();
    await netnsDel(FW_NETNS);
  });

  test('the flow through it is not interrupted, and the restarted agent adopts the namespace, its interfaces and table without duplicating anything', async () => {
    const a = await workload('a', NET_A.name);
    const b = await workload('b', NET_B.name);
    await lab.api('POST', '/api/v1/firewalls', {
      apiVersion: 'weft.dev/v1',
      kind: 'Firewall',
      metadata: { name: FW },
      spec: {
        host: 'h1',
        networks: [{ network: NET_A.name }, { network: NET_B.name }],
        defaultAction: 'deny',
        rules: [
          { name: 'flow', action: 'allow', from: [{ network: NET_A.name }], to: [{ network: NET_B.name }], protocol: 'tcp', ports: [PORT] },
          { name: 'ping', action: 'allow', from: [{ network: NET_A.name }], to: [{ network: NET_B.name }], protocol: 'icmp' },
        ],
      },
    });
    const first = await waitFor('the firewall to be ready', async () => {
      const f = await getFirewall();
      return f.status?.ready === true ? f : undefined;
    }, 30_000, 100);
    const fwOnA = first.status?.interfaces?.find((i) => i.network === NET_A.name)?.ip;
    expect(fwOnA).toBeDefined();
    await waitFor('a route to b through the firewall', async () =>
      (await ipJson<Array<{ dst: string; gateway?: string }>>('-n', a.ns, 'route', 'show')).some((r) => r.dst === NET_B.subnet && r.gateway === fwOnA));

    const retransmitsBefore = (await tcpRetransmits(a.ns)) + (await tcpRetransmits(b.ns));
    const server = new NsScript(b.ns, SERVER, [b.ip, String(PORT), String(SERVER_MAX_MS)]);
    scripts.push(server);
    await server.waitFor('the server to listen', () => server.count('listening') === 1);
    const client = new NsScript(a.ns, CLIENT, [b.ip, String(PORT), String(CLIENT_MAX_MS)]);
    scripts.push(client);
    const answered = () => client.last('progress')?.answered ?? 0;
    await client.waitFor('the flow to carry traffic', () => answered() >= 20 || client.count('done') > 0);
    expect(client.last('done')).toBeUndefined();

    const before = await snapshot(a.ns);
    // a progress line printed after the snapshot: what it counts as sent is at least what was sent when rx was read
    const progressLines = client.count('progress');
    await client.waitFor('a progress line', () => client.count('progress') > progressLines);
    const sentAtSnapshot = client.last('progress')?.sent ?? 0;
    expect(before.hostVnfLinks).toHaveLength(2);
    expect(before.tables).toEqual([`${FIREWALL_FAMILY} ${FIREWALL_VNF_TABLE}`]);
    expect(before.routesToB).toEqual([fwOnA]);
    const revisionBefore = (await getHost()).status?.appliedRevision ?? 0;

    // kill -9 while the flow runs; the data plane must go on without an agent
    const killed = lab.agent!.child;
    const killedAt = Date.now();
    const exited = once(killed, 'exit');
    process.kill(killed.pid!, 'SIGKILL');
    await exited;
    const answeredAtKill = answered();
    await waitFor('the controller to see the agent gone', async () => (await getFirewall()).status?.conditions?.[0]?.reason === 'AgentNotConnected', 10_000, 50);
    await new Promise((r) => setTimeout(r, 1000));
    const answeredWithoutAgent = answered() - answeredAtKill;
    expect(client.last('done')).toBeUndefined();

    const restartAt = Date.now();
    await lab.startAgent();
    const agentUpAt = Date.now();
    // Ready again from a report of the new agent (the controller keeps no report across a reconnect).
    const ready = await waitFor('the firewall to be ready again', async () => {
      const f = await getFirewall();
      const at = Date.parse(f.status?.conditions?.[0]?.lastTransitionTime ?? '');
      return f.status?.ready === true && at > killedAt ? f : undefined;
    }, 30_000, 100);
    const readyAt = Date.now();
    const host = await getHost();
    expect(host.status?.state).toBe('Ready');
    expect(host.status?.appliedRevision).toBeGreaterThanOrEqual(revisionBefore);
    expect(ready.status?.hosts?.h1).toMatchObject({ ready: true, revision: host.status?.appliedRevision });

    // the flow goes on a little under the new agent, then ends
    const answeredAtRestart = answered();
    await client.waitFor('the flow to go on after the restart', () => answered() >= answeredAtRestart + 20 || client.count('done') > 0);
    client.child.stdin?.write('stop\n');
    await client.waitFor('the flow to end', () => client.count('done') === 1, 10_000);
    const done = client.last('done')!;
    const after = await snapshot(a.ns);
    const retransmits = (await tcpRetransmits(a.ns)) + (await tcpRetransmits(b.ns)) - retransmitsBefore;
    const since = (t: number) => `${t - killedAt} ms`;
    console.log(
      `vnf-agent-restart flow: ${done.sent} sent, ${done.answered} answered over ${done.ms} ms; largest gap between answers ${done.maxGapMs} ms ` +
        `(ended ${since(done.maxGapAt ?? 0)} after the kill); TCP retransmissions ${retransmits}; ${answeredWithoutAgent} answered in the first second without an agent; ` +
        `restart at ${since(restartAt)}, agent up at ${since(agentUpAt)}, firewall ready at ${since(readyAt)}; table handle ${before.tableHandle} -> ${after.tableHandle}`,
    );

    // the flow: one connection, never reset or closed, every message answered, in order
    expect(done.errors).toEqual([]);
    expect(done.sent).toBeGreaterThan(0);
    expect(done.answered).toBe(done.sent);
    expect(done.outOfOrder).toBe(0);
    expect(answeredWithoutAgent).toBeGreaterThan(0);
    expect(server.count('accepted')).toBe(1);
    // ...and it went through the firewall: its interface on A received at least every message sent meanwhile
    expect(after.rxFromA - before.rxFromA).toBeGreaterThanOrEqual(done.sent! - sentAtSnapshot);
    expect(server.events.filter((e) => e.event === 'error')).toEqual([]);

    // nothing duplicated, everything adopted
    expect((await netnsList()).filter((n) => n.split('.').includes(FW))).toEqual([FW_NETNS]);
    expect(after.netnsIno).toBe(before.netnsIno);
    expect(after.inside).toEqual(before.inside);
    expect(after.hostVnfLinks).toEqual(before.hostVnfLinks);
    expect(after.tables).toEqual(before.tables);
    expect(after.tableHash).toBe(before.tableHash);
    // adopted, not reloaded: the table loaded from the same document stays (and its counters go on)
    expect(after.tableHandle).toBe(before.tableHandle);
    expect(after.routesToB).toEqual(before.routesToB);
    expect(after.hostTables).toEqual(before.hostTables);
    expect(after.hostLinks).toEqual(before.hostLinks);
    // the Firewall kind runs no process: none appeared in its namespace
    expect(before.processes).toEqual([]);
    expect(after.processes).toEqual([]);
  });
});

describe('VNF processes across a supervisor restart', () => {
  const PREFIX = runPrefix('vp');
  const NS = `${PREFIX}p`;
  const started: number[] = [];
  let dir = '';
  let ino = 0;

  afterEach(async () => {
    // By pid, and only while it is still a process in our namespace (not a reused number).
    for (const pid of started) if (ino !== 0 && pidsInNetns(ino).includes(pid)) process.kill(pid, 'SIGKILL');
    await netnsDel(NS);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('a new supervisor adopts the process the old one left running: same pid, one copy, and stopAll ends it', async () => {
    dir = mkdtempSync(join(tmpdir(), PREFIX));
    await netnsAdd(NS);
    ino = netnsInode(NS);
    const SLEEP = '/usr/bin/sleep';
    const vnfState = { stateDir: join(dir, 'agent') };
    const supervisorState = { stateDir: join(dir, 'agent/processes'), pollMs: 100, stopGraceMs: 2000 };
    const supervisor1 = new LinuxProcessSupervisor(supervisorState);
    const processes1 = new VnfProcesses(vnfState, supervisor1);
    const conf = join(processes1.runDir(NS), 'sleeper.conf');
    const want: VnfWant = {
      kind: 'Probe',
      name: 'p',
      generation: 1,
      netns: NS,
      sysctls: {},
      interfaces: [],
      routes: [],
      processes: [{ name: 'sleeper', argv: [SLEEP, '600'], files: { [conf]: 'duration 600\n' } }],
      model: undefined,
    };
    const id = `${NS}/sleeper`;

    expect(await processes1.sync(want)).toEqual([]);
    const s1 = supervisor1.state(id);
    expect(s1).toMatchObject({ state: 'running', adopted: false });
    const pid = s1!.pid!;
    started.push(pid);
    await waitFor('the process to be in its namespace', async () => pidsInNetns(ino).includes(pid), 5_000, 10);
    expect(pidsInNetns(ino)).toEqual([pid]);
    expect(cmdline(pid)).toEqual([SLEEP, '600']);

    // The agent goes away: its supervisor stops watching, kills nothing.
    await supervisor1.close();
    expect(pidsInNetns(ino)).toEqual([pid]);

    const supervisor2 = new LinuxProcessSupervisor(supervisorState);
    const processes2 = new VnfProcesses(vnfState, supervisor2);
    try {
      // before the first pass, the new run sees what the old one left
      expect(supervisor2.list()).toEqual([expect.objectContaining({ id, pid, state: 'running', adopted: false })]);
      expect(await processes2.sync(want)).toEqual([]);
      expect(supervisor2.state(id)).toMatchObject({ state: 'running', pid, adopted: true, restarts: 0, reloads: 0 });
      expect(pidsInNetns(ino)).toEqual([pid]);
      // a second pass changes nothing
      expect(await processes2.sync(want)).toEqual([]);
      expect(supervisor2.state(id)).toMatchObject({ state: 'running', pid, adopted: true, restarts: 0, reloads: 0 });
      expect(pidsInNetns(ino)).toEqual([pid]);

      await processes2.stopAll(NS);
      await waitFor('the process to end', async () => pidsInNetns(ino).length === 0, 10_000, 20);
      expect(supervisor2.state(id)?.state).toBe('stopped');
      expect(supervisor2.list().filter((s) => s.state === 'running')).toEqual([]);
    } finally {
      await supervisor2.close();
    }
  });
});
