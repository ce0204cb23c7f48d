// Probe: what one endpoint attach and one detach cost on this kernel through
// NetlinkDatapath. Not a test (no timed assertions); run as root:
//   node dist/test/bench/datapath-probe.js [runs]
// Everything lives in throwaway namespaces wt<pid>-bench-*: a "host"
// namespace with the bridge, one workload namespace per run. All removed at
// the end, also on failure.
import { NetlinkDatapath } from '../../agents/datapath/netlink/netlink-datapath.js';
import type { NetnsHandle } from '../../agents/datapath/port.js';

interface Stats {
  mean: number;
  p50: number;
  p95: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95) };
}

function fmt(name: string, samples: number[]): string {
  const { mean, p50, p95 } = stats(samples);
  return `${name.padEnd(44)} mean ${mean.toFixed(3)} ms  p50 ${p50.toFixed(3)}  p95 ${p95.toFixed(3)}  (n=${samples.length})`;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 100);
  const prefix = `wt${process.pid}-bench-`;
  const dp = new NetlinkDatapath();
  const names: string[] = [];
  const handles: NetnsHandle[] = [];
  const t = { createNs: [] as number[], attach: [] as number[], attachPeerUp: [] as number[], removeVeth: [] as number[] };
  try {
    names.push(`${prefix}host`);
    const host = await dp.at(await dp.createNamedNetns(`${prefix}host`));
    handles.push(host);
    const br = await host.addBridge({ name: 'wb-bench', mtu: 1450, alias: 'weft:net:bench' });
    await host.setLinkUp(br.index);

    const vethIndexes: number[] = [];
    for (let i = 0; i < runs * 2; i++) {
      const name = `${prefix}w${i}`;
      const c0 = performance.now();
      const path = await dp.createNamedNetns(name);
      t.createNs.push(performance.now() - c0);
      names.push(name);
      const mac = `02:42:64:40:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
      const ip = `100.64.${(i >> 8) & 255}.${(i & 255) + 2 > 254 ? 254 : (i & 255) + 2}`;
      // Two shapes: the sequence the agent runs (eth0 brought up through the
      // handle it holds anyway), and addVeth bringing the peer up itself.
      const peerUpInAddVeth = i % 2 === 1; // interleaved: cost grows with the ports on the bridge
      const t0 = performance.now();
      const ns = await dp.at(path);
      const veth = await host.addVeth({
        name: `wv-b${i}`,
        mtu: 1450,
        master: br.index,
        up: true,
        peer: { name: 'eth0', netns: path, mac, up: peerUpInAddVeth },
      });
      const eth0 = veth.peerIndex ?? -1;
      await host.setLinkAlias(veth.index, `weft:ep:bench-${i}`);
      await ns.addrAdd(eth0, ip, 16);
      await ns.setLinkUp(1);
      if (!peerUpInAddVeth) await ns.setLinkUp(eth0);
      await ns.routeReplace({ dst: 'default', gateway: '100.64.0.1', family: 4 });
      const dt = performance.now() - t0;
      (peerUpInAddVeth ? t.attachPeerUp : t.attach).push(dt);
      ns.close();
      vethIndexes.push(veth.index);
    }
    for (const index of vethIndexes) {
      const t0 = performance.now();
      await host.removeLink(index);
      t.removeVeth.push(performance.now() - t0);
    }
    console.log(fmt('createNamedNetns', t.createNs));
    console.log(fmt('attach (at+addVeth+alias+addr+lo up+eth0 up+route)', t.attach));
    console.log(fmt('attach, peer up inside addVeth', t.attachPeerUp));
    console.log(fmt('removeLink(veth)', t.removeVeth));
  } finally {
    for (const h of handles) h.close();
    dp.close();
    for (const n of names.reverse()) await dp.deleteNamedNetns(n);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
