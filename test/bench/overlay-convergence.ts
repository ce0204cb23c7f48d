// Benchmark: overlay convergence, from the start of an attach on host h1 to
// the first echo reply seen by a workload on host h2 that has been pinging
// the new address since before the attach. That span covers the attach, the
// controller hearing of the endpoint, the plan delta to h2 and h2 programming
// its FDB and proxy-ARP neighbour entries. No peer exists in this run (there
// is no other overlay here), so weft's figure stands beside its target.
import { readFileSync } from 'node:fs';
import type { AttachResult } from '../../model/agent-rpc.js';
import { intToIpv4, parsePrefix4, prefixLast } from '../../model/ip.js';
import type { Host, Network } from '../../model/kinds.js';
import { API_PREFIX } from '../../model/rest.js';
import type { Lab, Workload } from '../lab/index.js';
import { sleep, spawnIn } from './overlay-lab.js';
import { fmtMs, summarize, type Summary } from './stats.js';

export const CONVERGENCE_TARGET_MS = 100;
/** ping -w: a round that has not converged by then counts as failed. */
const PING_DEADLINE_S = 3;
/**
 * The client's ARP retry interval. Its ARP requests for the new address go
 * unanswered until h2's VXLAN proxy knows it, and the kernel's default 1 s
 * between retries would then dominate the figure; 10 ms is the kernel's
 * floor, so what is measured is weft, to within 10 ms.
 */
const CLIENT_ARP_RETRANS_MS = 10;
/**
 * ARP requests before the client's neighbour entry fails: enough to outlast
 * the ping deadline. A failed entry makes ping count an error, and with -c 1
 * an error ends ping as surely as a reply does.
 */
const CLIENT_ARP_PROBES = Math.ceil((PING_DEADLINE_S * 1000) / CLIENT_ARP_RETRANS_MS) + 100;

export interface ConvergenceResult {
  rounds: number;
  samples: number[];
  summary?: Summary;
  failures: string[];
  /** how many addresses of h1's own blocks the rounds cycled through */
  addresses: number;
}

/** True once the namespace of pid has a neighbour entry (any state) for ip: the ping has sent. */
function arpStarted(pid: number, ip: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/net/arp`, 'utf8').split('\n').some((l) => l.split(/\s+/)[0] === ip);
  } catch {
    return false;
  }
}

/**
 * Usable addresses in host's own address blocks of the network. Statics from
 * there are the attach's local path (no reservation round trip to the
 * controller), as a dynamic address would be; the controller refuses statics
 * inside another host's block anyway.
 */
async function ownAddresses(lab: Lab, host: string, network: string, exclude: string[]): Promise<string[]> {
  const h = await lab.api<Host>('GET', `${API_PREFIX}/hosts/${host}`);
  const net = await lab.api<Network>('GET', `${API_PREFIX}/networks/${network}`);
  const subnet = parsePrefix4(net.spec.subnet);
  if (!('prefix' in subnet)) throw new Error(`network ${network} has subnet ${net.spec.subnet}`);
  const out: string[] = [];
  for (const b of h.status?.blocks ?? []) {
    if (b.network !== network) continue;
    const block = parsePrefix4(b.cidr);
    if (!('prefix' in block)) continue;
    for (let n = block.prefix.base; n <= prefixLast(block.prefix); n++) {
      const ip = intToIpv4(n);
      if (n === subnet.prefix.base || n === prefixLast(subnet.prefix) || ip === net.spec.gateway || exclude.includes(ip)) continue;
      out.push(ip);
    }
  }
  return out;
}

export async function benchConvergence(lab: Lab, network: string, rounds: number): Promise<ConvergenceResult> {
  const client: Workload = await lab.workload('h2', 'conv-client');
  const c: AttachResult = await lab.attach('h2', { network, containerId: 'conv-client', netns: client.path });
  const neigh = `net.ipv4.neigh.${c.ifname}`;
  const sysctl = await lab.exec(client, ['sysctl', '-qw', `${neigh}.retrans_time_ms=${CLIENT_ARP_RETRANS_MS}`, `${neigh}.mcast_solicit=${CLIENT_ARP_PROBES}`]);
  if (sysctl.code !== 0) throw new Error(`sysctl in ${client.netns}: ${sysctl.stderr.trim()}`);

  const addresses = await ownAddresses(lab, 'h1', network, [c.ip, c.gateway]);
  if (addresses.length === 0) throw new Error(`h1 has no address block of network ${network}`);
  const samples: number[] = [];
  const failures: string[] = [];

  for (let i = 0; i < rounds; i++) {
    const ip = addresses[i % addresses.length]!;
    const containerId = `conv-${i}`;
    // An address used in an earlier round must not be answered from the
    // client's neighbour cache with the old endpoint's MAC.
    if (i >= addresses.length) await lab.exec(client, ['ip', 'neigh', 'flush', 'to', ip]);
    const w = await lab.workload('h1', `conv-${i}`);
    const ping = spawnIn(client, ['ping', '-n', '-c', '1', '-w', String(PING_DEADLINE_S), '-i', '0.002', ip]);
    let attached = false;
    try {
      // ping buffers its output when piped, so its first packet shows as the
      // neighbour entry it creates, not as a line of text.
      const pid = ping.child.pid;
      const waitUntil = Date.now() + 1_000;
      while (pid !== undefined && !arpStarted(pid, ip) && Date.now() < waitUntil) await sleep(1);
      const t0 = process.hrtime.bigint();
      try {
        await lab.attach('h1', { network, containerId, netns: w.path, ip });
        attached = true;
      } catch (e) {
        failures.push(`round ${i}: attach ${ip} failed: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      const end = await ping.exited;
      if (end.code === 0) samples.push(Number(end.at - t0) / 1e6);
      else failures.push(`round ${i}: no reply from ${ip} within ${PING_DEADLINE_S} s (ping exit ${end.code ?? end.signal}): ${lastLine(ping.output())}`);
    } finally {
      ping.kill();
      await ping.exited;
      if (attached) await lab.agent('h1', 'detach', { containerId });
      lab.removeWorkload(w);
    }
  }

  await lab.agent('h2', 'detach', { containerId: 'conv-client' });
  lab.removeWorkload(client);
  const result: ConvergenceResult = { rounds, samples, failures, addresses: Math.min(rounds, addresses.length) };
  if (samples.length > 0) result.summary = summarize(samples);
  return result;
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join(' / ');
}

export function printConvergence(r: ConvergenceResult): void {
  console.log(`\n# overlay convergence: attach on h1 -> first echo reply on h2, ${r.rounds} rounds, 2-host lab`);
  if (r.summary) {
    const slow = r.samples.filter((ms) => ms >= CONVERGENCE_TARGET_MS).length;
    console.log(
      `weft: p50 ${fmtMs(r.summary.p50)}, p99 ${fmtMs(r.summary.p99)}, mean ${fmtMs(r.summary.mean)}, max ${fmtMs(Math.max(...r.samples))}; ` +
        `${r.summary.n} converged, ${slow} of them at or over ${CONVERGENCE_TARGET_MS} ms`,
    );
  }
  console.log(`failed rounds (no reply within ${PING_DEADLINE_S} s or attach refused): ${r.failures.length} of ${r.rounds}`);
  for (const f of r.failures) console.log(`  ${f}`);
  console.log(
    `(each round: a fresh namespace on h1 attached with a static address from h1's own blocks (${r.addresses} distinct), the host's only endpoint on the network; ` +
      `the h2 client pings every 2 ms from before the attach, ARP retry ${CLIENT_ARP_RETRANS_MS} ms)`,
  );
  console.log(`peer: none in this run; target: p50 under ${CONVERGENCE_TARGET_MS} ms`);
}
