import { jest } from '@jest/globals';
// The PodmanHost test support, proven with the reference CNI plugins (bridge +
// host-local + portmap) before weft's own plugin uses it: podman runs inside a
// throwaway lab namespace, so the bridge, veths and iptables rules all land
// there, never in the root namespace.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodmanError, PodmanHost } from '../support/podman.js';
import { execIn, ipJson, netnsAdd, netnsDel, runPrefix, waitFor } from '../support/test-lab.js';

jest.setTimeout(300_000);

const prefix = runPrefix('pod');
const lab1 = `${prefix}h1`;
const lab2 = `${prefix}h2`;
const NET = `${prefix}net`;
const SLOW = `${prefix}slow`;
const REFUSE = `${prefix}refuse`;
const IMAGE = 'localhost/wtbusybox';
const dir = mkdtempSync(join(tmpdir(), prefix));
const confDir = join(dir, 'net.d');
const binDir = join(dir, 'bin');
const RELEASE = join(dir, 'release-slow-add');
let host: PodmanHost | undefined;
let rootLinksBefore: string[] = [];

function conflist(name: string, type: string, bridge: string, subnet: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type, bridge, isGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet, gateway: subnet.replace(/0\/24$/, '1') }]] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
}

/** Ours-looking links in the root namespace: our prefix, or the bridge plugin's veth<8 hex>. */
async function suspiciousRootLinks(): Promise<string[]> {
  const links = await ipJson<{ ifname: string }[]>('link', 'show');
  return links.map((l) => l.ifname).filter((n) => n.startsWith(prefix) || /^veth[0-9a-f]{8}$/.test(n));
}

async function veths(ns: string): Promise<string[]> {
  const links = await ipJson<{ ifname: string; linkinfo?: { info_kind?: string } }[]>('-d', '-n', ns, 'link', 'show');
  return links.filter((l) => l.linkinfo?.info_kind === 'veth').map((l) => l.ifname);
}

/** podman's namespaces (netns-<uuid>) whose veth peer lives in the lab namespace `lab`. */
async function podmanNetnsOf(lab: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of readdirSync('/run/netns')) {
    if (!/^(netns|cni)-/.test(name)) continue;
    const ids = await ipJson<{ name?: string }[]>('-n', name, 'netns', 'list-id').catch(() => []);
    if (ids.some((i) => i.name === lab)) found.push(name);
  }
  return found;
}

function cniCacheFiles(id: string): string[] {
  const d = '/var/lib/cni/results';
  return existsSync(d) ? readdirSync(d).filter((f) => f.includes(`-${id}-`)) : [];
}

beforeAll(async () => {
  rootLinksBefore = await suspiciousRootLinks();
  mkdirSync(confDir);
  mkdirSync(binDir);
  for (const p of ['bridge', 'host-local', 'portmap', 'loopback']) symlinkSync(`/usr/lib/cni/${p}`, join(binDir, p));
  // the reference bridge, held in ADD until the test creates the release
  // file (at most 60 s): lets a test kill podman in the middle of ADD
  // whatever the machine's speed
  writeFileSync(
    join(binDir, 'slowbridge'),
    `#!/bin/sh\nif [ "$CNI_COMMAND" = ADD ]; then i=0; while [ ! -e ${RELEASE} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; fi\nexec /usr/lib/cni/bridge\n`,
    { mode: 0o755 },
  );
  // a plugin that refuses every ADD with a CNI error (code 11, "try again later")
  writeFileSync(join(binDir, 'refuse'), [
    '#!/bin/sh',
    'cat >/dev/null',
    'case "$CNI_COMMAND" in',
    `VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;`,
    `ADD) echo '{"cniVersion":"1.0.0","code":11,"msg":"refused by the test plugin"}'; exit 1 ;;`,
    'esac',
    '',
  ].join('\n'), { mode: 0o755 });
  writeFileSync(join(confDir, `${NET}.conflist`), conflist(NET, 'bridge', `${prefix}br`, '100.64.50.0/24'));
  writeFileSync(join(confDir, `${SLOW}.conflist`), conflist(SLOW, 'slowbridge', `${prefix}bs`, '100.64.51.0/24'));
  writeFileSync(join(confDir, `${REFUSE}.conflist`), JSON.stringify({ cniVersion: '1.0.0', name: REFUSE, plugins: [{ type: 'refuse' }] }));
  host = new PodmanHost({ prefix, netnsPath: await netnsAdd(lab1), cniConfigDir: confDir, cniPluginDirs: [binDir] });
  await host.importBusybox(IMAGE);
});

afterAll(async () => {
  await host?.close();
  await netnsDel(lab1);
  await netnsDel(lab2);
  rmSync(dir, { recursive: true, force: true });
});

test('podman network ls lists the conflist network', async () => {
  expect(await host!.networkLs()).toContain(NET);
});

test('two containers on one network: one pings the other and fetches its httpd page', async () => {
  const srv = await host!.run({ name: 'srv', network: NET, ip: '100.64.50.10', command: ['httpd', '-f', '-p', '80', '-h', '/www'] });
  const cli = await host!.run({ name: 'cli', network: NET, command: ['sleep', '600'] });
  try {
    expect((await host!.exec(cli, ['ping', '-c', '1', '-W', '2', '100.64.50.10'])).code).toBe(0);
    // busybox-static's wget -T crashes (SIGSEGV): bound it with timeout(1) instead
    const page = await waitFor('httpd to answer', async () => {
      const r = await host!.exec(cli, ['timeout', '3', 'wget', '-q', '-O', '-', 'http://100.64.50.10/']);
      return r.code === 0 ? r.stdout : undefined;
    });
    expect(page).toBe('hello from weft\n');
  } finally {
    await host!.rm(srv);
    await host!.rm(cli);
  }
});

test('a published port is DNATed by portmap inside the lab namespace', async () => {
  const srv = await host!.run({ name: 'pub', network: NET, publish: [{ hostPort: 8080, containerPort: 80 }], command: ['httpd', '-f', '-p', '80', '-h', '/www'] });
  try {
    const page = await waitFor('published port to answer', async () => {
      const r = await execIn(lab1, ['timeout', '3', '/bin/busybox', 'wget', '-q', '-O', '-', 'http://100.64.50.1:8080/']);
      return r.code === 0 ? r.stdout : undefined;
    });
    expect(page).toBe('hello from weft\n');
  } finally {
    await host!.rm(srv);
  }
});

test('rm -f leaves no container namespace, veth or libcni cache entry behind', async () => {
  const before = await veths(lab1);
  const id = await host!.run({ name: 'gone', network: NET, command: ['sleep', '600'] });
  const netns = await host!.inspectNetns(id);
  expect(netns).toMatch(/^\/run\/netns\/(netns|cni)-/);
  expect(existsSync(netns)).toBe(true);
  expect((await veths(lab1)).length).toBe(before.length + 1);
  expect(cniCacheFiles(id)).toHaveLength(1);

  await host!.rm(id);
  expect(existsSync(netns)).toBe(false);
  expect(await veths(lab1)).toEqual(before);
  expect(cniCacheFiles(id)).toEqual([]);
});

test('close() cleans up after a refused ADD and a podman killed in the middle of ADD', async () => {
  const other = new PodmanHost({ prefix, netnsPath: await netnsAdd(lab2), cniConfigDir: confDir, cniPluginDirs: [binDir] });
  let ids: string[] = [];
  try {
    await other.importBusybox(IMAGE);
    const up = await other.run({ name: 'up', network: NET, command: ['sleep', '600'] });
    const upNetns = await other.inspectNetns(up);
    // the plugin's CNI error reaches the caller, with podman's stderr
    await expect(other.run({ name: 'refused', network: REFUSE, command: ['true'] })).rejects.toThrow(/refused by the test plugin/);
    // podman killed (by our 2.5 s timeout) while the plugin is still in ADD
    await expect(other.podman(['run', '-d', '--name', 'killed', '--network', SLOW, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000', IMAGE, 'sleep', '600'], 2_500))
      .rejects.toBeInstanceOf(PodmanError);
    writeFileSync(RELEASE, '');
    // the orphaned plugin finishes ADD: a namespace podman never recorded, wired to lab2
    await waitFor('orphaned ADD to finish', async () => (await podmanNetnsOf(lab2)).length === 2);
    ids = (await other.podman(['ps', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    expect(ids).toHaveLength(3);
    expect(existsSync(upNetns)).toBe(true);
  } finally {
    await other.close();
  }
  await other.close(); // twice is fine
  expect(await podmanNetnsOf(lab2)).toEqual([]);
  expect(await veths(lab2)).toEqual([]);
  expect(existsSync(other.dir)).toBe(false);
  for (const id of ids) expect(cniCacheFiles(id)).toEqual([]);
  await expect(other.networkLs()).rejects.toThrow(/closed/);
});

test('nothing appeared in the root namespace', async () => {
  expect(await suspiciousRootLinks()).toEqual(rootLinksBefore);
});
