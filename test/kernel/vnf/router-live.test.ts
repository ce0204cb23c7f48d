// The Router VNF keeps established flows while it changes and while its
// agent is down, in the 3-host lab of router.test.ts: a router on h3
// connects blue (a, on h1) and red (web1, on h2), takes blue out through
// SNAT in mode host, and publishes web1:80 on h3's address as 8080; the
// outside is a namespace of this test joined to h3 (203.0.113.0/24). Needs
// `npm run build` (the lab runs dist/).
//
// Through the router all the time: an iperf3 flow blue -> red and one
// blue -> outside (rate-capped, so two cores shared with other work keep
// up), and three long-lived TCP connections exchanging a line every 100 ms:
// blue -> red, blue -> outside (SNAT) and outside -> web1 (the port
// forward). The tests assert that every flow survives: each connection
// still gets answers after every step, and iperf3 reports no interval in
// which nothing went through. No timing is asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { VNF_UPLINK_TABLE, vnfNetnsName } from '../../../model/vnf-names.js';
import { Lab, labPrefix, type Workload } from '../../lab/index.js';
import { addOutside, execIn, ip, ipJson, netnsDel, netnsList, waitFor } from '../../support/test-lab.js';

jest.setTimeout(600_000);

const prefix = labPrefix('rl');
const labDir = mkdtempSync(join(tmpdir(), prefix));
const lab = new Lab({ dir: labDir });
const ROUTER = `${prefix}edge`;
const ROUTER_NETNS = vnfNetnsName('h3', { kind: 'Router', name: ROUTER });
const ROUTER_TABLE = 'weft-vnf-router';
const OUTSIDE = `${prefix}outside`;
const OUTSIDE_PATH = `/run/netns/${OUTSIDE}`;
const H3_OUTSIDE_IP = '203.0.113.1';
const OUTSIDE_IP = '203.0.113.100';
const NETS = { blue: '100.64.86.0/24', red: '100.64.87.0/24' } as const;
const STATIC_DST = '192.0.2.0/24';
/** iperf3 runs this long: longer than the steps of a test take on a loaded machine */
const IPERF_SECONDS = 40;
const children: ChildProcess[] = [];

let a: { w: Workload; ip: string };
let web1: { w: Workload; ip: string; endpoint: string };

const baseForward = () => ({ protocol: 'tcp', port: 8080, to: { endpoint: web1.endpoint, port: 80 } });
const routerDoc = (spec: { portForwards?: unknown[]; routes?: unknown[] } = {}) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Router',
  metadata: { name: ROUTER },
  spec: { host: 'h3', interfaces: [{ network: 'blue' }, { network: 'red' }], external: { mode: 'host' }, portForwards: spec.portForwards ?? [baseForward()], routes: spec.routes ?? [] },
});

function startIn(netnsPath: string, argv: string[]): ChildProcess {
  const [cmd, ...args] = argv as [string, ...string[]];
  const c = spawn('nsenter', [`--net=${netnsPath}`, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

/** A TCP server answering every line with itself, for 10 minutes at most. */
function echoServer(netnsPath: string, port: number): void {
  startIn(netnsPath, [process.execPath, '-e', `require('net').createServer((c)=>{c.on('error',()=>{});c.pipe(c)}).listen(${port},'0.0.0.0');setTimeout(()=>process.exit(0),600000)`]);
}

/**
 * A long-lived TCP connection sending a line every 100 ms and counting the
 * lines that come back; it prints the count on each, and how it ended.
 */
class LongLived {
  echoes = 0;
  ended: string | undefined;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    netnsPath: string,
    host: string,
    port: number,
  ) {
    const code =
      `const s=require('net').connect({host:'${host}',port:${port}});let n=0,buf='';s.setNoDelay(true);` +
      `s.on('connect',()=>setInterval(()=>s.write('x\\n'),100));` +
      `s.on('data',(b)=>{buf+=b;let i;while((i=buf.indexOf('\\n'))>=0){buf=buf.slice(i+1);n++;process.stdout.write(n+'\\n')}});` +
      `s.on('error',(e)=>{process.stdout.write('error '+e.message+'\\n');process.exit(3)});` +
      `s.on('close',()=>{process.stdout.write('closed\\n');process.exit(4)});setTimeout(()=>process.exit(0),600000)`;
    this.child = startIn(netnsPath, [process.execPath, '-e', code]);
    let out = '';
    this.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const l of lines) {
        if (/^\d+$/.test(l)) this.echoes = Number(l);
        else this.ended = l;
      }
    });
    this.child.once('exit', (code, signal) => (this.ended ??= `exited ${code ?? signal}`));
  }

  /** Resolves once `more` further answers came back; fails when the connection ended or went silent. */
  async advances(more = 3): Promise<void> {
    const from = this.echoes;
    await waitFor(`${this.name}: ${more} more answers after ${from} (ended: ${this.ended ?? 'no'})`, async () => {
      if (this.ended !== undefined) throw new Error(`${this.name}: the connection ended after ${this.echoes} answers: ${this.ended}`);
      return this.echoes >= from + more;
    }, 20_000, 50);
  }
}

interface IperfInterval {
  sum?: { bytes?: number; start?: number };
}
interface IperfDoc {
  error?: string;
  intervals?: IperfInterval[];
  end?: { sum_received?: { bytes?: number } };
}

/** An iperf3 flow of IPERF_SECONDS, rate-capped, with per-second intervals; resolves with its JSON report. */
class Flow {
  readonly done: Promise<IperfDoc>;
  running = true;

  constructor(
    readonly name: string,
    server: string,
    client: string,
    bind: string,
    port: number,
  ) {
    startIn(server, ['iperf3', '-s', '-1', '-B', bind, '-p', String(port)]);
    this.done = this.run(client, bind, port).finally(() => (this.running = false));
  }

  private async run(client: string, bind: string, port: number): Promise<IperfDoc> {
    for (let attempt = 0; ; attempt++) {
      const c = startIn(client, ['iperf3', '-c', bind, '-p', String(port), '-t', String(IPERF_SECONDS), '-i', '1', '-b', '200M', '-J']);
      let out = '';
      c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((r) => c.once('close', r));
      let doc: IperfDoc;
      try {
        doc = JSON.parse(out) as IperfDoc;
      } catch {
        throw new Error(`${this.name}: iperf3 printed no JSON: ${out.slice(0, 300)}`);
      }
      // the server not listening yet
      if (doc.error !== undefined && /connect/i.test(doc.error) && attempt < 50 && (doc.intervals ?? []).length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      return doc;
    }
  }

  /** The flow ran its whole length and no one-second interval passed without data. */
  async expectNoStall(): Promise<void> {
    const doc = await this.done;
    expect(doc.error).toBeUndefined();
    const intervals = doc.intervals ?? [];
    expect(intervals.length).toBeGreaterThanOrEqual(IPERF_SECONDS);
    const empty = intervals.filter((i) => !((i.sum?.bytes ?? 0) > 0)).map((i) => i.sum?.start);
    expect({ flow: this.name, intervalsWithoutData: empty }).toEqual({ flow: this.name, intervalsWithoutData: [] });
    expect(doc.end?.sum_received?.bytes ?? 0).toBeGreaterThan(0);
  }
}

async function nftRules(netns: string, family: string, table: string): Promise<string> {
  const r = await execIn(netns, ['nft', 'list', 'table', family, table]);
  return r.code === 0 ? r.stdout : '';
}

async function put(spec: Parameters<typeof routerDoc>[0]): Promise<void> {
  await lab.api('PUT', `/api/v1/routers/${ROUTER}`, routerDoc(spec));
}

/** What must exist exactly once for the router, as read back from the kernel. */
async function routerFootprint() {
  const h3 = lab.host('h3').netns;
  const tables = async (ns: string) => (await execIn(ns, ['nft', '-j', 'list', 'tables'])).stdout;
  const names = (json: string) => (JSON.parse(json) as { nftables: Array<{ table?: { family: string; name: string } }> }).nftables.flatMap((o) => (o.table ? [`${o.table.family} ${o.table.name}`] : []));
  const links = async (ns: string) => (await ipJson<Array<{ ifname: string; ifindex: number }>>('-n', ns, 'link', 'show')).map((l) => `${l.ifname}#${l.ifindex}`).sort();
  const routes = async (ns: string) => (await ipJson<Array<{ dst: string; gateway?: string; dev?: string }>>('-n', ns, 'route', 'show')).map((r) => `${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'}`).sort();
  return {
    // /run/netns is machine-wide: other labs' routers are there too
    namespaces: (await netnsList()).filter((n) => n.startsWith('wn.') && n.includes(prefix)).sort(),
    routerTables: names(await tables(ROUTER_NETNS)).sort(),
    routerLinks: await links(ROUTER_NETNS),
    routerRoutes: await routes(ROUTER_NETNS),
    hostVnfLinks: (await links(h3)).filter((l) => l.startsWith('wf-') || l.startsWith('wu-')),
    hostTables: names(await tables(h3)).sort(),
    hostRoutes: await routes(h3),
    aRoutes: await routes(a.w.netns),
  };
}

let flows: LongLived[] = [];

beforeAll(async () => {
  await lab.up({ hosts: 3, prefix, networks: Object.entries(NETS).map(([name, subnet]) => ({ name, subnet })) });
  await addOutside(lab.host('h3').netns, OUTSIDE, `${OUTSIDE_IP}/24`, { cidr: `${H3_OUTSIDE_IP}/24` });

  const aw = await lab.workload('h1', 'a');
  const ar = await lab.attach('h1', { network: 'blue', containerId: `${prefix}a`, netns: aw.path });
  a = { w: aw, ip: ar.ip };
  const ww = await lab.workload('h2', 'web1');
  const wr = await lab.attach('h2', { network: 'red', containerId: `${prefix}web1`, netns: ww.path });
  web1 = { w: ww, ip: wr.ip, endpoint: wr.endpoint };
  echoServer(web1.w.path, 80);
  echoServer(OUTSIDE_PATH, 7000);

  await lab.api('POST', '/api/v1/routers', routerDoc());
  await waitFor('the router to be ready', async () => (await lab.api<{ status?: { ready?: boolean } }>('GET', `/api/v1/routers/${ROUTER}`)).status?.ready === true, 60_000, 200);
  await waitFor('a\'s route to red through the router', async () => (await ipJson<Array<{ dst: string }>>('-n', a.w.netns, 'route', 'show')).some((r) => r.dst === NETS.red), 30_000, 100);
  flows = [new LongLived('blue -> red', a.w.path, web1.ip, 80), new LongLived('blue -> outside (SNAT)', a.w.path, OUTSIDE_IP, 7000), new LongLived('outside -> web1 (port forward)', OUTSIDE_PATH, H3_OUTSIDE_IP, 8080)];
  for (const f of flows) await f.advances();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await lab.api('DELETE', `/api/v1/routers/${ROUTER}`).catch(() => undefined);
  await lab.down({ prefix }).catch(() => undefined);
  await netnsDel(OUTSIDE);
  await netnsDel(ROUTER_NETNS);
  rmSync(labDir, { recursive: true, force: true });
});

const allAdvance = () => Promise.all(flows.map((f) => f.advances()));

function startFlows(): Flow[] {
  return [new Flow('iperf3 blue -> red', web1.w.path, a.w.path, web1.ip, 5201), new Flow('iperf3 blue -> outside (SNAT)', OUTSIDE_PATH, a.w.path, OUTSIDE_IP, 5202)];
}

/** Every step ran while both iperf3 flows did: otherwise the test would prove nothing about them. */
function expectStillRunning(iperfs: Flow[], step: string): void {
  for (const f of iperfs) if (!f.running) throw new Error(`${f.name} ended before "${step}" was done: raise IPERF_SECONDS`);
}

test('adding and removing a port forward and a static route drops no established flow', async () => {
  const h3 = lab.host('h3').netns;
  const iperfs = startFlows();
  await allAdvance();
  const steps: Array<{ name: string; spec: Parameters<typeof routerDoc>[0]; inKernel: () => Promise<boolean> }> = [
    {
      name: 'add port forward 8081',
      spec: { portForwards: [baseForward(), { protocol: 'tcp', port: 8081, to: { endpoint: web1.endpoint, port: 80 } }] },
      inKernel: async () => (await nftRules(ROUTER_NETNS, 'ip', ROUTER_TABLE)).includes('dport 8081') && (await nftRules(h3, 'ip', VNF_UPLINK_TABLE)).includes('dport 8081'),
    },
    {
      name: 'remove port forward 8081',
      spec: {},
      inKernel: async () => !(await nftRules(ROUTER_NETNS, 'ip', ROUTER_TABLE)).includes('dport 8081') && !(await nftRules(h3, 'ip', VNF_UPLINK_TABLE)).includes('dport 8081'),
    },
    {
      name: `add static route ${STATIC_DST}`,
      spec: { routes: [{ to: STATIC_DST, via: web1.ip }] },
      inKernel: async () => (await ip('-n', ROUTER_NETNS, 'route', 'show', STATIC_DST)).includes(web1.ip) && (await ip('-n', a.w.netns, 'route', 'show', STATIC_DST)).includes('via'),
    },
    {
      name: `remove static route ${STATIC_DST}`,
      spec: {},
      inKernel: async () => (await ip('-n', ROUTER_NETNS, 'route', 'show', STATIC_DST)).trim() === '' && (await ip('-n', a.w.netns, 'route', 'show', STATIC_DST)).trim() === '',
    },
  ];
  for (const step of steps) {
    await put(step.spec);
    await waitFor(`${step.name}: in the kernel`, step.inKernel, 30_000, 100);
    await allAdvance();
    expectStillRunning(iperfs, step.name);
  }
  for (const f of iperfs) await f.expectNoStall();
  await allAdvance();
});

test('kill -9 of the agent on the router\'s host: the flows go on while it is down and after its restart, and nothing is made twice', async () => {
  const before = await routerFootprint();
  expect(before.namespaces).toEqual([ROUTER_NETNS]);
  expect(before.routerTables).toEqual([`ip ${ROUTER_TABLE}`]);
  expect(before.hostVnfLinks).toHaveLength(3); // a port on blue, one on red, the uplink
  const iperfs = startFlows();
  await allAdvance();

  await lab.killAgent('h3');
  await waitFor('the router not ready while its agent is gone', async () => (await lab.api<{ status?: { ready?: boolean } }>('GET', `/api/v1/routers/${ROUTER}`)).status?.ready === false, 30_000, 100);
  // the data plane keeps forwarding with no agent
  await allAdvance();
  expectStillRunning(iperfs, 'agent down');

  await lab.startAgent('h3');
  // ready again once the restarted agent has made its first full pass and reported it (a reconnect starts with no readiness)
  await waitFor('the router to be ready again', async () => (await lab.api<{ status?: { ready?: boolean } }>('GET', `/api/v1/routers/${ROUTER}`)).status?.ready === true, 60_000, 200);
  await allAdvance();
  expectStillRunning(iperfs, 'agent restarted');
  // the same objects, not new ones beside or in place of them (ifindexes included)
  expect(await routerFootprint()).toEqual(before);
  for (const f of iperfs) await f.expectNoStall();
  await allAdvance();
});
