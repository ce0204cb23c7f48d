// Benchmark: TCP throughput between two lab hosts across the VXLAN overlay,
// next to the same pair of hosts over the plain underlay (the peer), with
// Debian's iperf3. The two take turns for several rounds and the figure is
// the median of the rounds' ratios: one test of each swings by ±10% on a
// shared 2-vCPU VM, more than the difference being measured. Every iperf3
// runs in a lab namespace; each test is bounded (-t), each server ends after
// one test (-1), and any iperf3 still running when something fails is
// killed by PID.
import { NETNS_RUN_DIR } from '../../model/kernel-names.js';
import type { Lab } from '../lab/index.js';
import { sleep, spawnIn, type LabChild } from './overlay-lab.js';
import { summarize } from './stats.js';

const SECONDS = 4;
const PORT = 5201;

export interface ThroughputRound {
  overlayBps: number;
  underlayBps: number;
}

export interface ThroughputResult {
  rounds: ThroughputRound[];
  /** median (p50) of the rounds' overlay/underlay ratios */
  ratio: number;
  overlayMtu: number;
}


interface IperfJson {
  error?: string;
  end?: { sum_received?: { bits_per_second?: number } };
}

/**
 * One iperf3 test, `seconds` long: the server in serverNs bound to bind,
 * the client in clientNs (namespace paths). Returns bits/s received. The client retries briefly because
 * the server's "listening" line is not a reliable signal through a pipe.
 */
export async function iperf(serverNs: string, clientNs: string, bind: string, seconds = SECONDS): Promise<number> {
  const server: LabChild = spawnIn(serverNs, ['iperf3', '-s', '-1', '-B', bind, '-p', String(PORT)]);
  let client: LabChild | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      client = spawnIn(clientNs, ['iperf3', '-c', bind, '-p', String(PORT), '-t', String(seconds), '-J']);
      const guard = setTimeout(() => client?.kill(), (seconds + 15) * 1000);
      const end = await client.exited;
      await client.closed;
      clearTimeout(guard);
      let doc: IperfJson;
      try {
        doc = JSON.parse(client.output()) as IperfJson;
      } catch {
        throw new Error(`iperf3 client to ${bind} exited ${end.code ?? end.signal} without JSON: ${client.output().slice(0, 300)}`);
      }
      if (doc.error !== undefined) {
        // the server not listening yet: try again a few times, then give up
        if (/connect/i.test(doc.error) && attempt < 20) {
          await sleep(100);
          continue;
        }
        throw new Error(`iperf3 client to ${bind}: ${doc.error}`);
      }
      const bps = doc.end?.sum_received?.bits_per_second;
      if (typeof bps !== 'number') throw new Error(`iperf3 client to ${bind}: no end.sum_received.bits_per_second in its JSON`);
      // -1: the server ends by itself after the test; wait for it (bounded)
      const stop = setTimeout(() => server.kill(), 5_000);
      await server.exited;
      clearTimeout(stop);
      return bps;
    }
  } finally {
    client?.kill();
    server.kill();
    await server.exited;
  }
}

export async function benchThroughput(lab: Lab, network: string, roundCount = 3): Promise<ThroughputResult> {
  const srv = await lab.workload('h1', 'tp-server');
  const cli = await lab.workload('h2', 'tp-client');
  try {
    const s = await lab.attach('h1', { network, containerId: 'tp-server', netns: srv.path });
    await lab.attach('h2', { network, containerId: 'tp-client', netns: cli.path });
    // first contact resolves ARP and warms the path; not part of the figure
    if (!(await lab.ping(cli, s.ip, 3))) throw new Error(`no ping from h2 to ${s.ip} across the overlay`);
    const h1 = `${NETNS_RUN_DIR}/${lab.host('h1').netns}`;
    const h2 = `${NETNS_RUN_DIR}/${lab.host('h2').netns}`;
    const rounds: ThroughputRound[] = [];
    for (let i = 0; i < roundCount; i++) {
      const overlayBps = await iperf(srv.path, cli.path, s.ip);
      const underlayBps = await iperf(h1, h2, lab.host('h1').address);
      rounds.push({ overlayBps, underlayBps });
    }
    return { rounds, ratio: summarize(rounds.map((r) => r.overlayBps / r.underlayBps)).p50, overlayMtu: s.mtu };
  } finally {
    await lab.agent('h1', 'detach', { containerId: 'tp-server' }).catch(() => undefined);
    await lab.agent('h2', 'detach', { containerId: 'tp-client' }).catch(() => undefined);
    lab.removeWorkload(srv);
    lab.removeWorkload(cli);
  }
}

export function printThroughput(r: ThroughputResult): void {
  const gbit = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;
  console.log(`\n# TCP throughput h2 -> h1, iperf3 -t ${SECONDS}, one stream, 2-host lab, ${r.rounds.length} rounds taking turns`);
  console.log(`round  weft overlay (VXLAN, MTU ${r.overlayMtu})  plain underlay (peer, same hosts)  ratio`);
  r.rounds.forEach((x, i) => console.log(`${String(i + 1).padEnd(6)} ${gbit(x.overlayBps).padEnd(31)} ${gbit(x.underlayBps).padEnd(34)} ${(x.overlayBps / x.underlayBps).toFixed(2)}`));
  console.log(`ratio overlay/underlay (median of the rounds): ${r.ratio.toFixed(2)} (goal >= 0.9)`);
}
