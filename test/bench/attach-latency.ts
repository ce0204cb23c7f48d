// Benchmark: attach/detach latency through the agent socket, as a runtime
// sees it (a fresh connection per call, like the CNI shim), next to the CNI
// reference bridge plugin's ADD/DEL measured in the same run.
import { readFileSync } from 'node:fs';
import { callAgent } from '../../runtime/agent-client.js';
import { createNetns, deleteNetns } from '../../sys/netns.js';
import { SingleHostLab, waitFor } from '../support/test-lab.js';
import { cniPeerAvailable, makeCniPeer } from './cni-bridge-peer.js';
import { fmtMs, printVersus, summarize, timed, type Summary } from './stats.js';

export interface AttachBenchResult {
  weftAttach: Summary;
  weftDetach: Summary;
  peerAdd?: Summary;
  peerDel?: Summary;
  agentRssMiB: number;
  attachAt500?: Summary;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}


export async function benchAttach(count = 200, large = 500): Promise<AttachBenchResult> {
  const lab = new SingleHostLab('b');
  const made = new Set<string>();
  const mkns = (name: string) => {
    const path = createNetns(name);
    made.add(name);
    return path;
  };
  const rmns = (name: string) => {
    deleteNetns(name);
    made.delete(name);
  };
  try {
    await lab.start();
    await lab.createNetwork('bench', '100.65.0.0/21');
    const sock = lab.socket;
    const peer = cniPeerAvailable() ? makeCniPeer(`/run/netns/${lab.hostNs}`, `${lab.prefix}br`, '100.64.0.0/16') : undefined;

    // warm-up: bridge creation and first-use costs are not what we measure
    const warm = mkns(`${lab.prefix}warm`);
    await callAgent(sock, 'attach', { network: 'bench', containerId: 'warm', netns: warm });
    await callAgent(sock, 'detach', { containerId: 'warm' });
    if (peer) {
      await peer.add('warm', warm);
      await peer.del('warm', warm);
    }
    rmns(`${lab.prefix}warm`);

    // weft and the peer take turns, container by container, so both see the
    // same kernel state (number of namespaces, bridge ports, load).
    const weftNs = Array.from({ length: count }, (_, i) => mkns(`${lab.prefix}w${i}`));
    const peerNs = peer ? Array.from({ length: count }, (_, i) => mkns(`${lab.prefix}p${i}`)) : [];
    const attach: number[] = [];
    const add: number[] = [];
    for (let i = 0; i < count; i++) {
      attach.push((await timed(() => callAgent(sock, 'attach', { network: 'bench', containerId: `b${i}`, netns: weftNs[i] as string }))).ms);
      if (peer) add.push(await peer.add(`p${i}`, peerNs[i] as string));
    }
    const agentRssMiB = lab.agent?.child.pid ? rssMiB(lab.agent.child.pid) : NaN;
    const detach: number[] = [];
    const del: number[] = [];
    for (let i = 0; i < count; i++) {
      detach.push((await timed(() => callAgent(sock, 'detach', { containerId: `b${i}` }))).ms);
      if (peer) del.push(await peer.del(`p${i}`, peerNs[i] as string));
    }
    // let background veth deletions finish before the next phase
    await waitFor('veths gone', async () => (await lab.hostLinks()).filter((l) => l.ifname.startsWith('wv-')).length === 0, 60_000, 100);
    for (let i = 0; i < count; i++) {
      rmns(`${lab.prefix}w${i}`);
      if (peer) rmns(`${lab.prefix}p${i}`);
    }
    peer?.cleanup();

    let attachAt500: Summary | undefined;
    if (large > 0) {
      const big = Array.from({ length: large }, (_, i) => mkns(`${lab.prefix}L${i}`));
      const samples: number[] = [];
      for (let i = 0; i < large; i++) {
        const ms = (await timed(() => callAgent(sock, 'attach', { network: 'bench', containerId: `L${i}`, netns: big[i] as string }))).ms;
        if (i >= large - 50) samples.push(ms); // the last 50: bridge at 450-500 ports
      }
      attachAt500 = summarize(samples);
      for (let i = 0; i < large; i++) await callAgent(sock, 'detach', { containerId: `L${i}` });
      await waitFor('veths gone', async () => (await lab.hostLinks()).filter((l) => l.ifname.startsWith('wv-')).length === 0, 120_000, 200);
    }
    // Veths can also go because the kernel finished deleting them after the agent died: figures from a dead agent are no figures.
    const agent = lab.agent?.child;
    if (agent && (agent.exitCode !== null || agent.signalCode !== null)) throw new Error(`the agent exited (${agent.exitCode ?? agent.signalCode}) during the benchmark: see its log`);

    const result: AttachBenchResult = { weftAttach: summarize(attach), weftDetach: summarize(detach), agentRssMiB };
    if (peer) {
      result.peerAdd = summarize(add);
      result.peerDel = summarize(del);
    }
    if (attachAt500) result.attachAt500 = attachAt500;
    return result;
  } finally {
    for (const name of made) {
      try {
        deleteNetns(name);
      } catch {
        // the lab sweep below removes what is left
      }
    }
    await lab.stop();
  }
}

export function printAttach(r: AttachBenchResult, count: number): void {
  console.log(`\n# attach/detach latency, ${count} namespaces, sequential, weft and the peer taking turns, caller's view`);
  printVersus('operation', 'cni bridge', [
    { label: 'attach / ADD', weft: r.weftAttach, peer: r.peerAdd },
    { label: 'detach / DEL', weft: r.weftDetach, peer: r.peerDel },
  ]);
  console.log(`agent resident memory with ${count} endpoints attached: ${r.agentRssMiB.toFixed(1)} MiB`);
  if (r.attachAt500) console.log(`weft attach with 450-500 ports on the bridge: p50 ${fmtMs(r.attachAt500.p50)}, p99 ${fmtMs(r.attachAt500.p99)}`);
  console.log('targets: attach p50 >= 6x faster than ADD; detach >= 10x faster than DEL');
}
