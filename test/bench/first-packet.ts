// Benchmark: the first packet of a freshly attached workload across hosts,
// with the kernel's default ARP and neighbour settings in every workload (a
// shortened ARP retry would hide exactly what is measured: an ARP request
// lost costs a whole retry interval, 1 s by default).
//
// Two directions, each round with a fresh namespace:
// - a fresh endpoint sends first: attached on h2, it pings a long-lived
//   workload on h1 the moment its attach returns;
// - a fresh endpoint receives first: attached on h1, a long-lived workload on
//   h2 pings it the moment the attach returns.
// The figure is the first echo's round trip as ping reports it (its ARP
// resolution included). Beside it, the same rounds between namespaces on one
// hand-built Linux bridge in a lab namespace: the kernel's own first packet.
// Then the first TCP connection to a policy-protected workload on the other
// host (first-connection.ts).
import type { AttachResult } from '../../model/agent-rpc.js';
import type { Lab, Workload } from '../lab/index.js';
import { flushNeighbours, primed, run, type Primed } from './overlay-lab.js';
import { firstConnections, type ConnectionRounds } from './first-connection.js';
import { fmtMs, summarize, type Summary } from './stats.js';

/** A round whose first reply took this long waited for an ARP retry (the kernel's default retry is 1 s). */
export const ARP_RETRY_MS = 900;
/** ping -W: a round without a reply by then counts as failed. */
const PING_WAIT_S = 3;
export const FIRST_PACKET_TARGET_P99_MS = 100;

export type Direction = 'sends' | 'receives';

export interface DirectionResult {
  samples: number[];
  summary?: Summary;
  /** rounds whose first reply came after an ARP retry (>= ARP_RETRY_MS) */
  retries: number;
  failures: string[];
}

export interface FirstPacketResult {
  rounds: number;
  weft: WeftRounds;
  bridge: Record<Direction, DirectionResult>;
  tcp: ConnectionRounds;
}

/** A ping started ahead in `from`, sending its one echo the moment it is told where to. */
export function primeEcho(from: Workload): Primed {
  return primed(from, ['ping', '-n', '-c', '1', '-W', String(PING_WAIT_S)]);
}

/** Send the primed echo to `ip` now: its round trip in ms, or an error text. */
export async function firstEcho(echo: Primed, ip: string): Promise<number | string> {
  echo.go(ip);
  const r = await echo.done;
  const m = /time=([\d.]+) ms/.exec(r.out);
  if (r.code === 0 && m) return Number(m[1]);
  return `no reply from ${ip} within ${PING_WAIT_S} s (ping exit ${r.code}): ${r.out.trim().split('\n').slice(-2).join(' / ')}`;
}

/** Stop a primed process that was not told to go (a failed round) and wait for it. */
async function discard(p: Primed): Promise<void> {
  p.kill();
  await p.done;
}

function emptyResult(): DirectionResult {
  return { samples: [], retries: 0, failures: [] };
}

function record(into: DirectionResult, round: number, outcome: number | string): void {
  if (typeof outcome === 'string') {
    into.failures.push(`round ${round}: ${outcome}`);
    return;
  }
  into.samples.push(outcome);
  if (outcome >= ARP_RETRY_MS) into.retries++;
}

function finish(r: DirectionResult): DirectionResult {
  if (r.samples.length > 0) r.summary = summarize(r.samples);
  return r;
}

/** Optional probes a test hangs on the rounds (the benchmark passes none). */
export interface RoundHooks {
  /** Once, with the long-lived workloads attached (peer on h1, client on h2). */
  ready?(peer: Workload, client: Workload): Promise<void>;
  /** Right as a fresh endpoint's attach on `host` returned, before its first packet. */
  attached?(dir: Direction, round: number, host: string, fresh: AttachResult): Promise<void>;
  /** After each round's first echo: `longLived` is the other end of that round (peer when the fresh one sent, client when it received). */
  after?(dir: Direction, round: number, longLived: Workload, outcome: number | string): Promise<void>;
}

export interface WeftRounds extends Record<Direction, DirectionResult> {
  /** attach latency of the fresh endpoints, ms, as the caller sees it (over the agent socket) */
  attachMs: number[];
}

/**
 * Rounds in both directions through weft: the long-lived workloads are
 * `peer` on h1 and `client` on h2, both attached to `network` for the whole
 * run, so both hosts carry the network before every round.
 */
export async function weftFirstPackets(lab: Lab, network: string, rounds: number, tag: string, hooks: RoundHooks = {}): Promise<WeftRounds> {
  const out: WeftRounds = { sends: emptyResult(), receives: emptyResult(), attachMs: [] };
  const peerW = await lab.workload('h1', `${tag}-peer`);
  const clientW = await lab.workload('h2', `${tag}-client`);
  const made: { host: string; containerId: string }[] = [];
  try {
    const peer = await lab.attach('h1', { network, containerId: `${tag}-peer`, netns: peerW.path });
    made.push({ host: 'h1', containerId: `${tag}-peer` });
    await lab.attach('h2', { network, containerId: `${tag}-client`, netns: clientW.path });
    made.push({ host: 'h2', containerId: `${tag}-client` });
    await hooks.ready?.(peerW, clientW);
    for (let i = 0; i < rounds; i++) {
      for (const dir of ['sends', 'receives'] as const) {
        const host = dir === 'sends' ? 'h2' : 'h1';
        const longLived = dir === 'sends' ? peerW : clientW;
        const containerId = `${tag}-${dir[0]}${i}`;
        await flushNeighbours(lab, longLived);
        const w = await lab.workload(host, containerId);
        // Started now, sent the moment the attach returns: no process start-up in between.
        const echo = primeEcho(dir === 'sends' ? w : clientW);
        let attached: AttachResult | undefined;
        try {
          const t0 = process.hrtime.bigint();
          attached = await lab.attach(host, { network, containerId, netns: w.path });
          out.attachMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
          await hooks.attached?.(dir, i, host, attached);
          const outcome = await firstEcho(echo, dir === 'sends' ? peer.ip : attached.ip);
          record(out[dir], i, outcome);
          await hooks.after?.(dir, i, longLived, outcome);
        } finally {
          await discard(echo);
          if (attached) await lab.agent(host, 'detach', { containerId });
          lab.removeWorkload(w);
        }
      }
    }
  } finally {
    for (const m of made.reverse()) await lab.agent(m.host, 'detach', { containerId: m.containerId }).catch(() => undefined);
    lab.removeWorkload(clientW);
    lab.removeWorkload(peerW);
  }
  finish(out.sends);
  finish(out.receives);
  return out;
}

/**
 * The peer: the same rounds between namespaces on one bridge built by hand
 * inside a lab namespace (no weft, no VXLAN): the kernel's first packet.
 * Addresses from 100.64.41.0/24; everything lives in namespaces of the lab's
 * prefix, so the lab's teardown sweeps it even after a crash.
 */
export async function bridgeFirstPackets(lab: Lab, rounds: number): Promise<Record<Direction, DirectionResult>> {
  const out: Record<Direction, DirectionResult> = { sends: emptyResult(), receives: emptyResult() };
  const sw = await lab.workload('h1', 'fp-bridge');
  const longLived = await lab.workload('h1', 'fp-bridge-a');
  const LONG_IP = '100.64.41.1';
  const FRESH_IP = '100.64.41.2';
  try {
    await run(lab, sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await run(lab, sw, ['ip', 'link', 'set', 'br0', 'up']);
    const plug = async (w: Workload, port: string, ip: string) => {
      await run(lab, sw, ['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', w.netns]);
      await run(lab, sw, ['ip', 'link', 'set', port, 'master', 'br0', 'up']);
      await run(lab, w, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await run(lab, w, ['ip', 'link', 'set', 'eth0', 'up']);
    };
    await plug(longLived, 'pa', LONG_IP);
    for (let i = 0; i < rounds; i++) {
      for (const dir of ['sends', 'receives'] as const) {
        await flushNeighbours(lab, longLived);
        const w = await lab.workload('h1', 'fp-bridge-f');
        const echo = primeEcho(dir === 'sends' ? w : longLived);
        try {
          await plug(w, 'pf', FRESH_IP);
          record(out[dir], i, await firstEcho(echo, dir === 'sends' ? LONG_IP : FRESH_IP));
        } finally {
          await discard(echo);
          lab.removeWorkload(w); // its veth goes with it
        }
      }
    }
  } finally {
    lab.removeWorkload(longLived);
    lab.removeWorkload(sw);
  }
  return { sends: finish(out.sends), receives: finish(out.receives) };
}

export async function benchFirstPacket(lab: Lab, network: string, rounds: number): Promise<FirstPacketResult> {
  const weft = await weftFirstPackets(lab, network, rounds, 'fp');
  const bridge = await bridgeFirstPackets(lab, rounds);
  const tcp = await firstConnections(lab, network, rounds, 'fc');
  return { rounds, weft, bridge, tcp };
}

function line(label: string, r: DirectionResult): string {
  if (!r.summary) return `${label}: no round answered; ${r.failures.length} failed`;
  const s = r.summary;
  return (
    `${label}: p50 ${fmtMs(s.p50)}, p99 ${fmtMs(s.p99)}, max ${fmtMs(Math.max(...r.samples))}; ` +
    `${r.retries} near 1 s (>= ${ARP_RETRY_MS} ms: an ARP retry), ${r.failures.length} without reply`
  );
}

function latency(label: string, xs: number[]): string {
  if (xs.length === 0) return `${label}: none`;
  const s = summarize(xs);
  return `${label}: p50 ${fmtMs(s.p50)}, p99 ${fmtMs(s.p99)}, max ${fmtMs(Math.max(...xs))}`;
}

export function printFirstPacket(r: FirstPacketResult): void {
  console.log(`\n# first packet across hosts: a fresh workload's first echo round trip, ${r.rounds} rounds each way, 2-host lab, default ARP settings`);
  for (const dir of ['sends', 'receives'] as const) {
    const what = dir === 'sends' ? 'fresh endpoint sends first (h2 -> h1)' : 'fresh endpoint receives first (h2 -> new on h1)';
    console.log(line(`weft, ${what}`, r.weft[dir]));
    console.log(line(`peer (one hand-built bridge), ${what}`, r.bridge[dir]));
    const w = r.weft[dir].summary;
    const b = r.bridge[dir].summary;
    if (w && b) console.log(`  weft / bridge at p99: ${(w.p99 / b.p99).toFixed(1)}x`);
    for (const f of r.weft[dir].failures.slice(0, 5)) console.log(`  weft ${f}`);
  }
  console.log(latency('attach of those fresh endpoints (agent socket, other host carries the network)', r.weft.attachMs));
  console.log(`target: p99 under ${FIRST_PACKET_TARGET_P99_MS} ms, no round near 1 s`);
  const t = r.tcp;
  const retransmitted = t.synRetransmits.filter((n) => n > 0).length;
  console.log(`\n# first TCP connection of a fresh endpoint (h2) to a FirewallPolicy-protected endpoint (h1), ${t.rounds} rounds, the client allowed by label`);
  console.log(
    `weft: ${t.rounds - retransmitted - t.failures.length} of ${t.rounds} opened without a SYN retransmit; ${retransmitted} rounds retransmitted ` +
      `(${t.synRetransmits.reduce((a, b) => a + b, 0)} SYN retransmits), ${t.failures.length} failed`,
  );
  console.log(latency('connect, started the moment the attach returned (bash /dev/tcp)', t.connectMs));
  console.log(latency('attach of those fresh endpoints', t.attachMs));
  for (const f of t.failures.slice(0, 5)) console.log(`  ${f}`);
  console.log(`target: ${t.rounds} of ${t.rounds} without a SYN retransmit`);
}
