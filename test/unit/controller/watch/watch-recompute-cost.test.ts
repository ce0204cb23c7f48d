// How long one watch pass takes at a size the console should handle with
// ease: 500 endpoints (half of them also declared), 20 networks, 10 hosts
// all connected and reporting. Printed, never asserted: the number depends
// on the machine and on what else runs.
import { performance } from 'node:perf_hooks';
import { watchHarness } from './watch-harness.js';

const HOSTS = 10;
const NETWORKS = 20;
const ENDPOINTS = 500;

describe('watch pass cost', () => {
  test(`one pass at ${ENDPOINTS} endpoints, ${NETWORKS} networks, ${HOSTS} hosts`, () => {
    const h = watchHarness({ tickMs: 3_600_000 });
    try {
      const networks = Array.from({ length: NETWORKS }, (_, i) => `net${i}`);
      const hosts = Array.from({ length: HOSTS }, (_, i) => `h${i + 1}`);
      networks.forEach((n, i) => h.createNetwork(n, `10.${i + 1}.0.0/16`));
      for (const host of hosts) h.connect(host);
      const placed = Array.from({ length: ENDPOINTS }, (_, i) => ({
        name: `ep${i}`, network: networks[i % NETWORKS] as string, host: hosts[Math.floor(i / NETWORKS) % HOSTS] as string, k: 2 + Math.floor(i / (NETWORKS * HOSTS)),
      }));
      h.resources.apply({
        items: placed
          .filter((_, i) => i % 2 === 0)
          .map((e) => ({ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: e.name }, spec: { network: e.network, host: e.host, containerId: `c-${e.name}`, ifname: 'eth0' } })),
      });
      for (const e of placed) h.attach(e.host, e.network, e.name, e.k);
      for (const host of hosts) h.live.status(host, Date.now(), h.store.revision(), Object.fromEntries(networks.map((n) => [n, { ready: true }])));

      const w = h.watch();
      const objects = w.take().filter((m) => m.type === 'added').length;
      expect(objects).toBe(HOSTS + NETWORKS + ENDPOINTS);

      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        h.hub.recomputeNow();
        times.push(h.hub.stats().lastRecomputeMs as number);
      }
      // One more after a change, for the cost of the diff that finds it.
      h.live.disconnected('h1', Date.now());
      h.hub.recomputeNow();
      const changed = w.take().filter((m) => m.type === 'modified').length;
      // What a heartbeat or the tick costs when no host changed state: the Hosts alone.
      const t0 = performance.now();
      h.status.listHosts();
      const hostsMs = performance.now() - t0;
      const sorted = [...times].sort((a, b) => a - b);
      const ms = (x: number | undefined) => `${(x ?? NaN).toFixed(1)} ms`;
      console.log(
        `watch pass, ${objects} objects (${ENDPOINTS} endpoints, ${NETWORKS} networks, ${HOSTS} hosts): ` +
          `min ${ms(sorted[0])}, median ${ms(sorted[3])}, max ${ms(sorted[6])}; ` +
          `after host h1 disconnected: ${ms(h.hub.stats().lastRecomputeMs)}, ${changed} objects modified; ` +
          `reading the Hosts alone (a heartbeat's pass): ${ms(hostsMs)}`,
      );
      expect(changed).toBeGreaterThan(0);
    } finally {
      h.close();
    }
  });
});
