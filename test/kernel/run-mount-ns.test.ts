import { jest } from '@jest/globals';
// `weft run` where the agent cannot see its namespace by path: under
// `ip netns exec`, which gives its command a private mount namespace, the
// bind mount under /run/netns exists for that command alone. The agent gets
// the namespace as a descriptor of the caller (attach netnsFd) instead.
// Also what the agent says to a path it cannot use, and to descriptors that
// are no network namespace.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { NETNS_RUN_DIR } from '../../model/kernel-names.js';
import { callAgent } from '../../runtime/agent-client.js';
import { CLI, ipJson, netnsAdd, netnsDel, netnsList, SingleHostLab, waitFor } from '../support/test-lab.js';

jest.setTimeout(300_000);

const run = promisify(execFile);
const lab = new SingleHostLab('m');

interface Endpoints {
  items: { metadata: { name: string }; spec: { containerId?: string }; status?: { ip?: string } }[];
}

async function hostVeths(): Promise<string[]> {
  return (await lab.hostLinks()).map((l) => l.ifname).filter((n) => n.startsWith('wv-'));
}

/** The failure a promise ends with (the test fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('blue', '198.18.30.0/24');
});

afterAll(async () => {
  await lab.stop();
});

test('`weft run` under `ip netns exec` attaches by descriptor: the workload has its address and reaches a peer; nothing is left', async () => {
  const peerNs = `${lab.prefix}peer`;
  const peerPath = await netnsAdd(peerNs);
  try {
    const peer = await callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'mnt-peer', netns: peerPath });
    const veths = await hostVeths();
    expect(veths).toHaveLength(1);

    // The run's own namespace is bind-mounted inside ip netns exec's private mount namespace.
    const script = `ip -4 -o addr show dev eth0 && ping -c 1 -W 2 ${peer.ip}`;
    const { stdout, stderr } = await run('ip', ['netns', 'exec', lab.hostNs, process.execPath, CLI, 'run', '-v', '--network', 'blue', '--name', 'mnt-run', '--socket', lab.socket, '--', 'sh', '-c', script], {
      timeout: 30_000,
    });
    const attached = /weft run: eth0 (198\.18\.30\.\d+)\/24 .*\(endpoint (\S+), netns (\/run\/netns\/wr-[0-9a-f]+)\)/.exec(stderr);
    expect(attached).not.toBeNull();
    const [, ip, endpoint, nsPath] = attached as unknown as [string, string, string, string];
    expect(ip).not.toBe(peer.ip);
    // the address the agent reported is the one the workload has, and the peer answers it
    expect(stdout).toMatch(new RegExp(`\\beth0\\s+inet ${ip.replace(/\./g, '\\.')}/24\\b`));
    expect(stdout).toMatch(/1 packets transmitted, 1 received/);

    // detached and removed: no endpoint, no host veth but the peer's, no namespace file
    expect((await callAgent(lab.socket, 'list', {})).endpoints.map((e) => e.containerId)).toEqual(['mnt-peer']);
    await waitFor('the run\'s host veth removed', async () => (await hostVeths()).join() === veths.join());
    await waitFor('the controller forgets the endpoint', async () => !(await lab.api<Endpoints>('GET', '/api/v1/endpoints')).items.some((e) => e.metadata.name === endpoint));
    expect(await netnsList()).not.toContain(nsPath.slice(NETNS_RUN_DIR.length + 1));

    await callAgent(lab.socket, 'detach', { containerId: 'mnt-peer' });
    await waitFor('peer veth removed', async () => (await hostVeths()).length === 0);
  } finally {
    await netnsDel(peerNs);
  }
});

test('a namespace path the agent sees as an empty file: the error says why and what to do; nothing is made', async () => {
  // What a bind mount made in another mount namespace looks like from here.
  const path = `${NETNS_RUN_DIR}/${lab.prefix}hidden`;
  writeFileSync(path, '');
  try {
    const err = await failure(callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'mnt-hidden', netns: path }));
    expect(err.message).toContain(`network namespace ${path}: not a network namespace here`);
    expect(err.message).toContain('Hand it over as a descriptor (attach netnsFd');
    expect(err.message).toContain('nsenter --net=');
    expect((await callAgent(lab.socket, 'list', {})).endpoints).toEqual([]);
    expect(await hostVeths()).toEqual([]);
  } finally {
    rmSync(path, { force: true });
  }
});

test('netnsFd must be a network namespace the caller holds', async () => {
  const ns = `${lab.prefix}fd`;
  const nsPath = await netnsAdd(ns);
  const notNamespace = openSync('/dev/null', 'r');
  try {
    const params = { network: 'blue', containerId: 'mnt-fd', netns: nsPath };
    const other = await failure(callAgent(lab.socket, 'attach', { ...params, netnsFd: notNamespace }));
    expect(other.message).toMatch(/descriptor \d+ of the socket peer: EINVAL \(not a network namespace: pass a descriptor of one/);
    const unheld = await failure(callAgent(lab.socket, 'attach', { ...params, netnsFd: 1_000_000 }));
    expect(unheld.message).toMatch(/descriptor 1000000 of the socket peer: EBADF \(the caller has no such descriptor open\)/);
    const bad = await failure(callAgent(lab.socket, 'attach', { ...params, netnsFd: -1 }));
    expect(bad.message).toMatch(/\/netnsFd: must be a descriptor number/);
    expect((await callAgent(lab.socket, 'list', {})).endpoints).toEqual([]);

    // The same request with a descriptor of the namespace works, and the record names the path given.
    const fd = openSync(nsPath, 'r');
    try {
      const r = await callAgent(lab.socket, 'attach', { ...params, netnsFd: fd });
      expect(r.netns).toBe(nsPath);
      const addrs = await ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>('-n', ns, 'addr', 'show', 'eth0');
      expect(addrs[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toContain(r.address);
    } finally {
      closeSync(fd);
    }
    await callAgent(lab.socket, 'detach', { containerId: 'mnt-fd' });
    await waitFor('veth removed', async () => (await hostVeths()).length === 0);
  } finally {
    closeSync(notNamespace);
    await netnsDel(ns);
  }
});

test('a run attached by descriptor stays attached across agent restarts while it runs, and is detached once it is gone', async () => {
  // The agent's first full pass (with the endpoint reaper) ends before its socket listens: a restart is a reaper pass.
  const restartAgent = async () => {
    await lab.agent?.stop();
    await lab.startAgent();
  };
  const containerIds = async () => (await callAgent(lab.socket, 'list', {})).endpoints.map((e) => e.containerId);
  const runner = spawn('ip', ['netns', 'exec', lab.hostNs, process.execPath, CLI, 'run', '-v', '--network', 'blue', '--name', 'mnt-long', '--socket', lab.socket, '--', 'sleep', '300'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  runner.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = runner.pid as number;
  let workload: number | undefined;
  let nsName: string | undefined;
  try {
    nsName = await waitFor('the run attached', async () => /netns \/run\/netns\/(wr-[0-9a-f]+)\)/.exec(stderr)?.[1]);
    expect(await containerIds()).toContain('mnt-long');
    workload = await waitFor('the workload started', async () => {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '');
      return children.length > 0 ? Number(children[0]) : undefined;
    });
    const veths = await hostVeths();
    expect(veths).toHaveLength(1);

    // The run's namespace path exists in ip netns exec's mount namespace only; the agent looks for it there.
    await restartAgent();
    expect(await containerIds()).toEqual(['mnt-long']);
    expect(await hostVeths()).toEqual(veths);

    // Its caller killed outright (no detach of its own): the next pass detaches it, everywhere.
    const exited = new Promise((r) => runner.once('exit', r));
    process.kill(pid, 'SIGKILL');
    await exited;
    await restartAgent();
    expect(await containerIds()).toEqual([]);
    await waitFor('the run\'s host veth removed', async () => (await hostVeths()).length === 0);
    await waitFor('the controller forgets the endpoint', async () => !(await lab.api<Endpoints>('GET', '/api/v1/endpoints')).items.some((e) => e.spec.containerId === 'mnt-long'));
  } finally {
    if (runner.exitCode === null && runner.signalCode === null) process.kill(pid, 'SIGKILL');
    if (workload !== undefined) {
      try {
        process.kill(workload, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Its bind mount went with ip netns exec's mount namespace; the empty mount point is left in /run/netns.
    if (nsName !== undefined) await netnsDel(nsName);
  }
});
