// Benchmark: attach/detach latency through the agent socket, as a runtime
// sees it (a fresh connection per call, like the CNI shim), next to the
// kernel's floor (the raw netlink sequence of an attach, raw-attach.ts) and
// the CNI reference bridge plugin's ADD/DEL, measured in the same run.
import { readFileSync } from 'node:fs';
import { callAgent } from '../../runtime/agent-client.js';
import { createNetns, deleteNetns } from '../../sys/netns.js';
import { SingleHostLab, waitFor } from '../support/test-lab.js';
import { cniPeerAvailable, makeCniPeer } from './cni-bridge-peer.js';
import { rawAttacher, type RawAttacher } from './raw-attach.js';
import { cpuMs, fmtMs, printVersus, summarize, timed, type Summary } from './stats.js';

export interface AttachBenchResult {
  weftAttach: Summary;
  weftDetach: Summary;
  rawAttach: Summary;
  rawDetach: Summary;
  /** CPU time per attach (ms): the agent's threads over the attach loop (its background work included), the raw sequence's thread around each call */
  agentCpuPerAttach: number;
  rawCpuPerAttach: number;
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
  let raw: RawAttacher | undefined;
  try {
    await lab.start();
    await lab.createNetwork('bench', '100.65.0.0/21');
    const sock = lab.socket;
    const peer = cniPeerAvailable() ? makeCniPeer(`/run/netns/${lab.hostNs}`, `${lab.prefix}br`, '100.64.0.0/16') : undefined;
    const floor = await rawAttacher(`/run/netns/${lab.hostNs}`, `${lab.prefix}rb`, 'rv');
    raw = floor;

    // warm-up: bridge creation and first-use costs are not what we measure
    const warm = mkns(`${lab.prefix}warm`);
    await callAgent(sock, 'attach', { network: 'bench', containerId: 'warm', netns: warm });
    await callAgent(sock, 'detach', { containerId: 'warm' });
    if (peer) {
      await peer.add('warm', warm);
      await peer.del('warm', warm);
    }
    await floor.attach(count, warm);
    await floor.detach(count);
    rmns(`${lab.prefix}warm`);

    // weft, the raw sequence and the peer take turns, container by container,
    // so all see the same kernel state (number of namespaces, bridge ports, load).
    const weftNs = Array.from({ length: count }, (_, i) => mkns(`${lab.prefix}w${i}`));
    const rawNs = Array.from({ length: count }, (_, i) => mkns(`${lab.prefix}r${i}`));
    const peerNs = peer ? Array.from({ length: count }, (_, i) => mkns(`${lab.prefix}p${i}`)) : [];
    const attach: number[] = [];
    const rawAttach: number[] = [];
    const add: number[] = [];
    const agentPid = lab.agent?.child.pid ?? 0;
    const agentCpu0 = cpuMs(agentPid);
    let rawCpu = 0;
    for (let i = 0; i < count; i++) {
      const cpu0 = cpuMs(process.pid, process.pid);
      rawAttach.push((await timed(() => floor.attach(i, rawNs[i] as string))).ms);
      rawCpu += cpuMs(process.pid, process.pid) - cpu0;
      attach.push((await timed(() => callAgent(sock, 'attach', { network: 'bench', containerId: `b${i}`, netns: weftNs[i] as string }))).ms);
      if (peer) add.push(await peer.add(`p${i}`, peerNs[i] as string));
    }
    const agentCpuPerAttach = (cpuMs(agentPid) - agentCpu0) / count;
    const agentRssMiB = agentPid ? rssMiB(agentPid) : NaN;
    const detach: number[] = [];
    const rawDetach: number[] = [];
    const del: number[] = [];
    for (let i = 0; i < count; i++) {
      rawDetach.push((await timed(() => floor.detach(i))).ms);
      detach.push((await timed(() => callAgent(sock, 'detach', { containerId: `b${i}` }))).ms);
      if (peer) del.push(await peer.del(`p${i}`, peerNs[i] as string));
    }
    // let background veth deletions finish before the next phase
    await waitFor('veths gone', async () => (await lab.hostLinks()).filter((l) => l.ifname.startsWith('wv-')).length === 0, 60_000, 100);
    for (let i = 0; i < count; i++) {
      rmns(`${lab.prefix}w${i}`);
      rmns(`${lab.prefix}r${i}`);
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

    const result: AttachBenchResult = {
      weftAttach: summarize(attach),
      weftDetach: summarize(detach),
      rawAttach: summarize(rawAttach),
      rawDetach: summarize(rawDetach),
      agentCpuPerAttach,
      rawCpuPerAttach: rawCpu / count,
      agentRssMiB,
    };
    if (peer) {
      result.peerAdd = summarize(add);
      result.peerDel = summarize(del);
    }
    if (attachAt500) result.attachAt500 = attachAt500;
    return result;
  } finally {
    await raw?.close();
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
  const ratio = (a: Summary, b: Summary) => (a.p50 / b.p50).toFixed(2);
  console.log(
    `the kernel's floor (raw netlink sequence, no bookkeeping): attach p50 ${fmtMs(r.rawAttach.p50)} (p99 ${fmtMs(r.rawAttach.p99)}), ` +
      `detach p50 ${fmtMs(r.rawDetach.p50)}; weft/raw at p50: attach ${ratio(r.weftAttach, r.rawAttach)}x, detach ${ratio(r.weftDetach, r.rawDetach)}x (goal: attach <= 1.5x)`,
  );
  console.log(`CPU time per attach (not stretched by other load): agent ${fmtMs(r.agentCpuPerAttach)} (all threads, background work included), raw sequence ${fmtMs(r.rawCpuPerAttach)}`);
  console.log(`agent resident memory with ${count} endpoints attached: ${r.agentRssMiB.toFixed(1)} MiB`);
  if (r.attachAt500) console.log(`weft attach with 450-500 ports on the bridge: p50 ${fmtMs(r.attachAt500.p50)}, p99 ${fmtMs(r.attachAt500.p99)}`);
  console.log('targets: attach p50 >= 6x faster than ADD; detach >= 10x faster than DEL');
}
