import { jest } from '@jest/globals';
// kill -9 the agent while 20 runtimes exec the weft CNI plugin's ADD at
// once: every exec either succeeds with a result or fails with a CNI error
// (code 11, try again later, once the agent is gone); after the restart no
// container is half-attached (the kernel, not the agent, is the witness),
// and the runtime's retry succeeds.
import { join } from 'node:path';
import { callAgent } from '../../runtime/agent-client.js';
import { execPlugin, type CniOutcome } from '../support/cni-exec.js';
import { ipJson, netnsAdd, SingleHostLab, waitFor } from '../support/test-lab.js';

jest.setTimeout(300_000);

const lab = new SingleHostLab('k');
let plugin = '';
const conf = () => ({ cniVersion: '1.0.0', name: 'crashnet', type: 'weft', agentSocket: lab.socket });

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('crashnet', '198.18.50.0/24');
  const bin = join(lab.dir, 'cni-bin');
  const r = await lab.cli(['install-cni', '--bin-dir', bin]);
  if (r.code !== 0) throw new Error(`install-cni failed: ${r.stderr}`);
  plugin = join(bin, 'weft');
});

afterAll(async () => {
  await lab.stop();
});

/** What the container namespace holds: weft's interface with its IPv4 addresses, or nothing. */
async function containerView(ns: string): Promise<{ eth0: boolean; ips: string[]; veths: number }> {
  const links = await ipJson<{ ifname: string; addr_info: { local: string; prefixlen: number; family: string }[] }[]>('-n', ns, 'addr', 'show');
  const eth0 = links.find((l) => l.ifname === 'eth0');
  const veths = (await ipJson<unknown[]>('-n', ns, 'link', 'show', 'type', 'veth')).length;
  return { eth0: eth0 !== undefined, ips: eth0?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) ?? [], veths };
}

test('kill -9 during 20 parallel ADDs: each ADD succeeds or is a CNI error, nothing is half-attached, retries succeed', async () => {
  const n = 20;
  const names = Array.from({ length: n }, (_, i) => `${lab.prefix}c${i}`);
  const paths = await Promise.all(names.map((x) => netnsAdd(x)));
  const pid = lab.agent?.child.pid;
  if (pid === undefined) throw new Error('agent not running');

  // Kill the agent the moment the first ADD has answered: the other 19 are
  // in flight then (polling the kernel for it is too slow: 20 ADDs take
  // ~100 ms in all).
  let killed = false;
  const adds = paths.map((netns, i) =>
    execPlugin(plugin, { command: 'ADD', containerId: `crash-${i}`, netns, ifname: 'eth0' }, conf()).then((o) => {
      if (o.code === 0 && !killed) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
      return o;
    }),
  );
  const outcomes: CniOutcome[] = await Promise.all(adds);
  expect(killed).toBe(true);

  // While the agent is down, a new ADD is "try again later".
  const down = await execPlugin(plugin, { command: 'ADD', containerId: 'crash-down', netns: paths[0] ?? '', ifname: 'eth9' }, conf());
  expect(down.code).toBe(1);
  expect(down.json).toMatchObject({ cniVersion: '1.0.0', code: 11 });

  const succeeded = new Map<number, string>();
  const failed: number[] = [];
  outcomes.forEach((o, i) => {
    if (o.code === 0) {
      const res = o.json as { ips: { address: string }[] };
      succeeded.set(i, res.ips[0]?.address ?? '');
    } else {
      // a CNI error object, nothing else: 11 while the agent is gone
      expect(o.code).toBe(1);
      expect(o.json).toMatchObject({ cniVersion: '1.0.0', code: 11 });
      failed.push(i);
    }
  });
  expect(failed.length).toBeGreaterThan(0); // the kill did land mid-way

  await lab.startAgent();
  await waitFor('the new agent answers', async () => (await callAgent(lab.socket, 'health', {})).host === 'h1');
  // The restarted agent sweeps what a dead attach left. Then each container
  // is whole or untouched, never in between: a reported ADD is there with
  // its address; an ADD that failed is either absent or (its answer lost
  // with the agent) complete and known to the agent — the runtime's DEL
  // after a failed ADD removes it.
  let known = new Map<string, string>();
  await waitFor('no half-attached container', async () => {
    known = new Map((await callAgent(lab.socket, 'list', { network: 'crashnet' })).endpoints.map((e) => [e.containerId, e.address]));
    const hostVeths = (await ipJson<unknown[]>('-n', lab.hostNs, 'link', 'show', 'type', 'veth')).length;
    if (hostVeths !== known.size) return false;
    for (const [i, ns] of names.entries()) {
      const v = await containerView(ns);
      const reported = succeeded.get(i);
      const agent = known.get(`crash-${i}`);
      const whole = v.eth0 && v.veths === 1 && v.ips.length === 1 && v.ips[0] === agent;
      const untouched = !v.eth0 && v.veths === 0 && agent === undefined;
      if (reported !== undefined ? !(whole && agent === reported) : !(whole || untouched)) return false;
    }
    return true;
  }, 30_000, 200).catch(async (e: unknown) => {
    const views = await Promise.all(names.map(async (ns, i) => ({ i, reported: succeeded.get(i), agent: known.get(`crash-${i}`), ...(await containerView(ns)) })));
    throw new Error(`${String(e)}\n${JSON.stringify(views)}`);
  });

  // The runtime retries the failed ones (after the DEL it owes them, which must succeed too).
  for (const i of failed) {
    const call = { containerId: `crash-${i}`, netns: paths[i] ?? '', ifname: 'eth0' };
    expect((await execPlugin(plugin, { command: 'DEL', ...call }, conf())).code).toBe(0);
    const retry = await execPlugin(plugin, { command: 'ADD', ...call }, conf());
    expect(retry.stdout).toContain('"ips"');
    expect(retry.code).toBe(0);
  }
  const list = await callAgent(lab.socket, 'list', { network: 'crashnet' });
  expect(list.endpoints).toHaveLength(n);
  expect(new Set(list.endpoints.map((e) => e.ip)).size).toBe(n); // no address twice

  for (const [i, netns] of paths.entries()) {
    expect((await execPlugin(plugin, { command: 'DEL', containerId: `crash-${i}`, netns, ifname: 'eth0' }, conf())).code).toBe(0);
  }
  await waitFor('all host veths gone', async () => (await ipJson<unknown[]>('-n', lab.hostNs, 'link', 'show', 'type', 'veth')).length === 0);
});
