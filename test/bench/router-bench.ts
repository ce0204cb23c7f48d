// The router benchmark (`npm run bench`, skip with WEFT_BENCH_SKIP=router):
// weft's Router beside a router built by hand (router-lab.ts), in one run.
//
// - routed throughput, blue client -> red server through the router, and
//   SNAT throughput, blue client -> the outside (translated twice: by the
//   router, then by the host): iperf3, one stream, SECONDS long; beside
//   them the client to a neighbour on its own network, no router on the
//   path, which tells what the hosts' datapaths alone make of the ratio;
// - new TCP connections per second through SNAT: CONNS short connections
//   (connect, the server answers with the address it saw and closes, the
//   client closes) from a Node client keeping CONCURRENCY of them open, to a
//   Node server in the outside. Node, not a C tool, because none is on the
//   machine; one event loop with many sockets in flight costs the client
//   about as much CPU per connection as the kernel path, so the figure is
//   the rate of the whole path on this machine, client included: both
//   routers get the same client, and the difference is the routers';
// - a port forward change: the REST apply (PUT of the router with one more
//   port forward) until the rule is in the router namespace's nft table and
//   the published port in the host's, seen by `nft monitor` running in both
//   (no polling); beside it the same rules added by hand with `nft add rule`.
//
// Throughput and connections take turns, weft then by hand, for ROUNDS
// rounds; each figure is the median over the rounds of weft / by hand, as
// load from elsewhere on a shared 2-vCPU machine moves one test by more
// than the difference measured. Knobs: WEFT_BENCH_ROUTER_ROUNDS (5),
// WEFT_BENCH_ROUTER_SECONDS (2), WEFT_BENCH_ROUTER_CONNS (10000),
// WEFT_BENCH_ROUTER_CHANGES (20). About two minutes with the defaults.
import { spawnInNetns } from '../../sys/netns.js';
import { iperf } from './overlay-throughput.js';
import { FORWARD_TO_PORT, HOST_OUTSIDE_IP, OUTSIDE_IP, applyRouter, execNs, handForward, startRouterLab, stopRouterLab, type RouterLab, type RouterSide } from './router-lab.js';
import { sleep, spawnIn, type LabChild } from './overlay-lab.js';
import { printVersus, summarize, type Summary } from './stats.js';

const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}=${raw}: use a positive integer`);
  return v;
};

const CONN_PORT = 7100;
const CONCURRENCY = 16;
/** the published ports of the change benchmark: one more per round */
const FIRST_FORWARD_PORT = 9000;

export interface RouterBenchResult {
  rounds: number;
  seconds: number;
  conns: number;
  routed: Pair[];
  /** the client to a neighbour on its own network: the hosts' datapath without a router */
  bridged: Pair[];
  snat: Pair[];
  connRate: Pair[];
  /** REST apply -> rule in the router's table / also the published port in the host's, ms */
  change: { router: Summary; both: Summary; rest: Summary };
  /** `nft add rule` by hand, router and host in parallel -> both seen, ms */
  handChange: Summary;
}

interface Pair {
  weft: number;
  hand: number;
}

const median = (xs: number[]) => summarize(xs).p50;
const ratio = (ps: Pair[]) => median(ps.map((p) => p.weft / p.hand));

/** Children still running, killed by PID when something fails. */
const children = new Set<LabChild>();

function track(c: LabChild): LabChild {
  children.add(c);
  void c.exited.then(() => children.delete(c));
  return c;
}

const CONN_SERVER = `require('net').createServer((c)=>{c.on('error',()=>{});c.end(c.remoteAddress)}).listen({port:${CONN_PORT},host:'0.0.0.0',backlog:4096});setTimeout(()=>process.exit(0),900000)`;

// argv: host port total concurrency. Prints {ms, errors, seen: addresses the server saw}.
const CONN_CLIENT = `const net=require('net');const host=process.argv[1],port=+process.argv[2],total=+process.argv[3],conc=+process.argv[4];
let started=0,done=0,errors=0;const seen=new Set();const t0=process.hrtime.bigint();
setTimeout(()=>{process.stdout.write(JSON.stringify({error:'timed out',done}));process.exit(2)},120000).unref();
function fin(){done++;if(done===total){process.stdout.write(JSON.stringify({ms:Number(process.hrtime.bigint()-t0)/1e6,errors,seen:[...seen]}));process.exit(0)}one()}
function one(){if(started>=total)return;started++;const s=net.connect({host,port});let d='';let over=false;const end=(ok)=>{if(over)return;over=true;if(ok)seen.add(d);else errors++;s.destroy();fin()};
s.on('data',(b)=>d+=b);s.on('end',()=>end(true));s.on('error',()=>end(false));s.on('close',()=>end(d!==''))}
for(let i=0;i<conc;i++)one();`;

/** conns short connections from side.client to its outside; connections per second (the server must have seen the host's address only). */
async function connRate(side: RouterSide, count: number): Promise<number> {
  const c = track(spawnIn(side.client, [process.execPath, '-e', CONN_CLIENT, OUTSIDE_IP, String(CONN_PORT), String(count), String(CONCURRENCY)]));
  const end = await c.exited;
  await c.closed;
  let doc: { ms?: number; errors?: number; seen?: string[]; error?: string };
  try {
    doc = JSON.parse(c.output()) as typeof doc;
  } catch {
    throw new Error(`connection client exited ${end.code ?? end.signal} without JSON: ${c.output().slice(0, 300)}`);
  }
  if (doc.ms === undefined) throw new Error(`connection client: ${doc.error ?? 'no figure'}`);
  if (doc.errors !== 0) throw new Error(`connection client: ${doc.errors} of ${count} connections failed`);
  if (JSON.stringify(doc.seen) !== JSON.stringify([HOST_OUTSIDE_IP])) throw new Error(`the outside saw ${JSON.stringify(doc.seen)}, not only the host's address ${HOST_OUTSIDE_IP}: not translated`);
  return (count * 1000) / doc.ms;
}

/** Both ends of the connection test ready: the servers up and one connection through each router. */
async function startConnServers(l: RouterLab): Promise<void> {
  for (const side of [l.weft, l.hand]) {
    // many short connections from one address: the whole port range, not 28,000 ports
    await execNs(side.client, ['sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1024 65000']);
    track(spawnIn(side.outside, [process.execPath, '-e', CONN_SERVER]));
  }
  for (const side of [l.weft, l.hand]) {
    for (let attempt = 0; ; attempt++) {
      try {
        await connRate(side, 100);
        break;
      } catch (e) {
        if (attempt > 50) throw e;
        await sleep(100);
      }
    }
  }
}

/** `nft monitor rules` in a namespace: resolves a wait for a line matching, with the time it arrived. */
function monitor(netnsPath: string): { seen: (re: RegExp) => Promise<bigint>; stop: () => void } {
  const child = spawnInNetns(netnsPath, 'nft', ['monitor', 'rules'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const waiting: Array<{ re: RegExp; resolve: (t: bigint) => void }> = [];
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    const at = process.hrtime.bigint();
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      for (const w of [...waiting]) {
        if (!w.re.test(line)) continue;
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(at);
      }
    }
  });
  return {
    seen: (re) => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`nft monitor in ${netnsPath}: no rule matching ${re} within 30 s`)), 30_000);
      waiting.push({ re, resolve: (at) => (clearTimeout(t), resolve(at)) });
    }),
    stop: () => child.kill('SIGKILL'),
  };
}

const msSince = (t0: bigint, t: bigint) => Number(t - t0) / 1e6;

async function benchChanges(l: RouterLab, changes: number): Promise<{ change: RouterBenchResult['change']; handChange: Summary }> {
  const mons = { weftRouter: monitor(l.weft.router), weftHost: monitor(l.weft.host), handRouter: monitor(l.hand.router), handHost: monitor(l.hand.host) };
  try {
    await sleep(500); // nft monitor subscribed
    const router: number[] = [];
    const both: number[] = [];
    const rest: number[] = [];
    const hand: number[] = [];
    const forwards: unknown[] = [];
    for (let i = 0; i < changes; i++) {
      const port = FIRST_FORWARD_PORT + i;
      const re = new RegExp(`dport ${port} `);
      forwards.push({ protocol: 'tcp', port, to: { endpoint: l.serverEndpoint, port: FORWARD_TO_PORT } });
      const seenRouter = mons.weftRouter.seen(re);
      const seenHost = mons.weftHost.seen(re);
      const t0 = process.hrtime.bigint();
      await applyRouter(l, forwards);
      rest.push(msSince(t0, process.hrtime.bigint()));
      const [r, h] = await Promise.all([seenRouter, seenHost]);
      router.push(msSince(t0, r));
      both.push(msSince(t0, r > h ? r : h));

      const handSeen = [mons.handRouter.seen(re), mons.handHost.seen(re)] as const;
      const h0 = process.hrtime.bigint();
      await Promise.all(handForward(l, port).map((c) => execNs(c.netns, c.argv)));
      const [hr, hh] = await Promise.all(handSeen);
      hand.push(msSince(h0, hr > hh ? hr : hh));
      // the agent's status report and counters settle before the next change
      await sleep(200);
    }
    return { change: { router: summarize(router), both: summarize(both), rest: summarize(rest) }, handChange: summarize(hand) };
  } finally {
    for (const m of Object.values(mons)) m.stop();
  }
}

export async function benchRouter(): Promise<RouterBenchResult> {
  const rounds = envInt('WEFT_BENCH_ROUTER_ROUNDS', 5);
  const seconds = envInt('WEFT_BENCH_ROUTER_SECONDS', 2);
  const conns = envInt('WEFT_BENCH_ROUTER_CONNS', 10_000);
  const changes = envInt('WEFT_BENCH_ROUTER_CHANGES', 20);
  const l = await startRouterLab();
  try {
    await startConnServers(l);
    const routed: Pair[] = [];
    const bridged: Pair[] = [];
    const snat: Pair[] = [];
    const connRates: Pair[] = [];
    for (let i = 0; i < rounds; i++) {
      routed.push({ weft: await iperf(l.weft.server, l.weft.client, l.weft.serverIp, seconds), hand: await iperf(l.hand.server, l.hand.client, l.hand.serverIp, seconds) });
      bridged.push({ weft: await iperf(l.weft.neighbour, l.weft.client, l.weft.neighbourIp, seconds), hand: await iperf(l.hand.neighbour, l.hand.client, l.hand.neighbourIp, seconds) });
      snat.push({ weft: await iperf(l.weft.outside, l.weft.client, OUTSIDE_IP, seconds), hand: await iperf(l.hand.outside, l.hand.client, OUTSIDE_IP, seconds) });
      connRates.push({ weft: await connRate(l.weft, conns), hand: await connRate(l.hand, conns) });
    }
    const { change, handChange } = await benchChanges(l, changes);
    return { rounds, seconds, conns, routed, bridged, snat, connRate: connRates, change, handChange };
  } finally {
    for (const c of children) c.kill();
    children.clear();
    await stopRouterLab();
  }
}

/** Teardown from a signal handler. */
export async function stopRouterBench(): Promise<void> {
  for (const c of children) c.kill();
  children.clear();
  await stopRouterLab();
}

export function printRouter(r: RouterBenchResult): void {
  const gbit = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;
  const perS = (x: number) => `${Math.round(x).toLocaleString('en')}/s`;
  console.log(`\n# router: weft's Router beside a router built by hand (ip + nft masquerade), same shape, one host; ${r.rounds} rounds taking turns, figure = median of the rounds' weft / by hand`);
  const rows: string[][] = [['', 'weft (median)', 'by hand (median)', 'weft / by hand', 'goal', '', 'rounds weft | by hand']];
  const line = (label: string, ps: Pair[], fmt: (x: number) => string, goal?: number) => {
    const q = ratio(ps);
    const [goalText, met] = goal === undefined ? ['(no router)', ''] : [`>= ${(100 * goal).toFixed(0)}%`, q >= goal ? 'met' : 'NOT met'];
    rows.push([label, fmt(median(ps.map((p) => p.weft))), fmt(median(ps.map((p) => p.hand))), `${(100 * q).toFixed(0)}%`, goalText, met, `${ps.map((p) => fmt(p.weft)).join(' ')} | ${ps.map((p) => fmt(p.hand)).join(' ')}`]);
  };
  line(`routed blue -> red, iperf3 -t ${r.seconds}`, r.routed, gbit, 0.95);
  line(`same network, blue -> blue, iperf3 -t ${r.seconds}`, r.bridged, gbit);
  line(`SNAT blue -> outside, iperf3 -t ${r.seconds}`, r.snat, gbit, 0.9);
  line(`SNAT new connections (${r.conns.toLocaleString('en')}, ${CONCURRENCY} in flight)`, r.connRate, perS, 0.9);
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd());
  console.log(
    "(same network: the client to a neighbour on its own bridge, no router on the path: what weft's host datapath — firewall, anti-spoofing, isolation — costs " +
      'beside a bare bridge; the routed path crosses a bridge twice, the SNAT path once)',
  );
  console.log(
    `(new connections: a Node client keeping ${CONCURRENCY} in flight and a Node server in the outside, the same for both routers; no C load tool is on the machine, ` +
      'and these two take a large share of the CPU, so the rate is of the whole path, client and server included)',
  );
  console.log(`\n# router: a port forward change, ${r.change.both.n} changes (one more forward each), until nft monitor shows the rule`);
  printVersus('change', 'by hand (nft add rule)', [
    { label: 'REST apply -> router table', weft: r.change.router, peer: r.handChange },
    { label: 'REST apply -> router + host tables', weft: r.change.both, peer: r.handChange },
  ]);
  console.log(`REST apply answered after p50 ${r.change.rest.p50.toFixed(2)} ms; goal: in the kernel under 50 ms p50 — ${r.change.both.p50 < 50 ? 'met' : 'NOT met'} (${r.change.both.p50.toFixed(1)} ms)`);
}
