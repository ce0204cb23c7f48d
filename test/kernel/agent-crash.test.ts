import { jest } from '@jest/globals';
// Crash safety: kill -9 the agent in the middle of 50 concurrent attaches,
// restart it, and check the kernel (not the agent's word): every attach
// that was reported exists exactly once, nothing half-made remains, no
// address is assigned twice. Then restart the controller: state survives.
import { callAgent } from '../../runtime/agent-client.js';
import type { AttachResult } from '../../model/agent-rpc.js';
import { ipJson, netnsAdd, SingleHostLab, waitFor } from '../support/test-lab.js';

jest.setTimeout(300_000);


const lab = new SingleHostLab('c');

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('crash', '198.18.30.0/24');
});

afterAll(async () => {
  await lab.stop();
});

interface KernelEndpoint {
  ns: string;
  ips: string[];
}

async function kernelView(names: string[]): Promise<KernelEndpoint[]> {
  const out: KernelEndpoint[] = [];
  for (const ns of names) {
    const addrs = await ipJson<{ ifname: string; addr_info: { local: string; family: string }[] }[]>('-n', ns, 'addr', 'show');
    const ips = addrs.filter((a) => a.ifname !== 'lo').flatMap((a) => a.addr_info.filter((x) => x.family === 'inet').map((x) => x.local));
    const veths = await ipJson<unknown[]>('-n', ns, 'link', 'show', 'type', 'veth');
    if (veths.length > 0 || ips.length > 0) out.push({ ns, ips });
  }
  return out;
}

test('kill -9 during 50 concurrent attaches: restart converges with nothing leaked or duplicated', async () => {
  const n = 50;
  const names = Array.from({ length: n }, (_, i) => `${lab.prefix}k${i}`);
  const paths = await Promise.all(names.map((x) => netnsAdd(x)));
  const pid = lab.agent!.child.pid!;

  const calls = paths.map((p, i) => callAgent(lab.socket, 'attach', { network: 'crash', containerId: `crash-${i}`, netns: p }, { timeoutMs: 10_000 })
    .then((r) => ({ ok: true as const, r, i }), (e: unknown) => ({ ok: false as const, e, i })));
  // kill once some (not all) attaches have gone through
  await waitFor('some attaches to land', async () => (await ipJson<unknown[]>('-n', lab.hostNs, 'link', 'show', 'type', 'veth')).length >= 5, 20_000, 2);
  process.kill(pid, 'SIGKILL');
  const outcomes = await Promise.all(calls);
  const reported = outcomes.filter((o): o is { ok: true; r: AttachResult; i: number } => o.ok);
  expect(reported.length).toBeLessThan(n); // the kill did land mid-way

  await lab.startAgent();
  const list = await waitFor('agent lists endpoints', async () => (await callAgent(lab.socket, 'list', {})).endpoints);

  // every reported attach exists exactly once, with the reported address
  for (const { r } of reported) {
    expect(list.filter((e) => e.containerId === r.containerId)).toHaveLength(1);
    expect(list.find((e) => e.containerId === r.containerId)?.ip).toBe(r.ip);
  }
  const kernel = await kernelView(names);
  // nothing half-made: each namespace with a veth or address is a listed endpoint with exactly that address
  const byNs = new Map(list.map((e) => [e.netns, e]));
  for (const k of kernel) {
    const ep = byNs.get(`/run/netns/${k.ns}`);
    expect(ep).toBeDefined();
    expect(k.ips).toEqual([ep!.ip]);
  }
  expect(kernel.length).toBe(list.length);
  const hostVeths = (await ipJson<{ ifname: string }[]>('-n', lab.hostNs, 'link', 'show', 'type', 'veth')).map((l) => l.ifname).sort();
  expect(hostVeths).toEqual(list.map((e) => e.hostIfname).sort());
  // no address assigned twice
  const ips = kernel.flatMap((k) => k.ips);
  expect(new Set(ips).size).toBe(ips.length);

  // a retry of the failed ones succeeds and still never duplicates
  for (const o of outcomes.filter((x) => !x.ok)) {
    await callAgent(lab.socket, 'attach', { network: 'crash', containerId: `crash-${o.i}`, netns: paths[o.i]! });
  }
  const all = (await callAgent(lab.socket, 'list', {})).endpoints;
  expect(all).toHaveLength(n);
  expect(new Set(all.map((e) => e.ip)).size).toBe(n);
  await waitFor('controller has every endpoint', async () =>
    (await lab.api<{ items: unknown[] }>('GET', '/api/v1/endpoints?network=crash')).items.length === n);

  // restart the controller: everything is still there
  const before = await lab.api<{ items: { metadata: { name: string }; status?: { ip?: string } }[] }>('GET', '/api/v1/endpoints');
  const nets = await lab.api<{ items: { metadata: { name: string }; status?: { vni?: number } }[] }>('GET', '/api/v1/networks');
  await lab.controller!.stop('SIGKILL');
  await lab.startController();
  const afterNets = await lab.api<{ items: { metadata: { name: string }; status?: { vni?: number } }[] }>('GET', '/api/v1/networks');
  expect(afterNets.items.map((x) => [x.metadata.name, x.status?.vni])).toEqual(nets.items.map((x) => [x.metadata.name, x.status?.vni]));
  const after = await lab.api<typeof before>('GET', '/api/v1/endpoints');
  expect(after.items.map((e) => e.status?.ip).sort()).toEqual(before.items.map((e) => e.status?.ip).sort());

  for (let i = 0; i < n; i++) await callAgent(lab.socket, 'detach', { containerId: `crash-${i}` });
  await waitFor('veths gone', async () => (await ipJson<unknown[]>('-n', lab.hostNs, 'link', 'show', 'type', 'veth')).length === 0, 30_000);
});
