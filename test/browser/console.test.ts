// The web console end to end, in headless Chromium against a running lab
// (3 hosts, 2 networks, a few workloads): log in, see the topology, watch a
// workload attached by `weft run` appear without a reload, review and apply
// a YAML change, see an invalid document refused at its line, a wrong token
// refused, and the watch resume after its connection is cut. The browser
// runs inside the lab's namespace, where the controller listens, so every
// request it makes stays in the lab.
//
// Screenshots of the topology and of a detail page go to
// test-artifacts/console/ (not committed) for a reviewer to look at.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { Page } from 'playwright-core';
import type { Endpoint, Network } from '../../model/kinds.js';
import type { ResourceList } from '../../model/rest.js';
import { parseWatchFrame, type WatchMessage } from '../../model/watch.js';
import { Lab, LAB_CONTROLLER_ADDRESS, LAB_CONTROLLER_URL, labPrefix } from '../lab/index.js';
import { launchInNetns, type NetnsBrowser } from '../support/console-browser.js';
import { CLI, REPO } from '../support/test-lab.js';

jest.setTimeout(240_000);

const ARTIFACTS = join(REPO, 'test-artifacts', 'console');
const prefix = labPrefix('C');
const dir = mkdtempSync(join(tmpdir(), prefix));
const lab = new Lab({ dir });
let nb: NetnsBrowser | undefined;
let page: Page;
let token: string;
const running: ChildProcess[] = [];
const WRONG_TOKEN = 'not-the-token';
/** Every URL the page requested (HTTP and WebSocket), in order. */
const requests: string[] = [];

interface DrawnNode {
  id: string;
  kind: string;
  label: string;
  health: string;
}

/** What the page exposes for tests (the test's own types have no DOM). Casts only: page functions are sent as source. */
interface ConsolePage {
  __weftGraph?: { nodes(): DrawnNode[]; select(id: string): void };
  __weftEditor?: { getText(): string; setText(text: string): void };
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
}

const byTestId = (id: string) => page.locator(`[data-testid="${id}"]`);

async function drawn(): Promise<DrawnNode[]> {
  return page.evaluate(() => (globalThis as unknown as ConsolePage).__weftGraph?.nodes() ?? []);
}

/** Wait until the graph holds a node whose label contains `text`; returns how long it took. */
async function waitForNode(kind: string, text: string, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  await page.waitForFunction(
    ([k, t]) => ((globalThis as unknown as ConsolePage).__weftGraph?.nodes() ?? []).some((n: DrawnNode) => n.kind === k && n.label.includes(t as string)),
    [kind, text],
    { timeout: timeoutMs, polling: 50 },
  );
  return Date.now() - t0;
}

async function networks(): Promise<string[]> {
  return (await lab.api<ResourceList<Network>>('GET', '/api/v1/networks')).items.map((n) => n.metadata.name).sort();
}

async function login(withToken: string): Promise<void> {
  await page.goto(`${LAB_CONTROLLER_URL}/`);
  await byTestId('login-token').fill(withToken);
  await byTestId('login-submit').click();
}

/** Put `text` into the editor as a user pasting it would (no auto-indent on typed newlines). */
async function setEditorText(text: string): Promise<void> {
  await page.evaluate((t) => (globalThis as unknown as ConsolePage).__weftEditor?.setText(t), text);
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await lab.up({
    hosts: 3,
    prefix,
    networks: [
      { name: 'blue', subnet: '100.64.10.0/24' },
      { name: 'green', subnet: '100.64.20.0/24' },
    ],
  });
  token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  const placed: [string, string, string, Record<string, string>][] = [
    ['h1', 'web1', 'blue', { app: 'web' }],
    ['h2', 'web2', 'blue', { app: 'web' }],
    ['h3', 'db1', 'green', { app: 'db' }],
    ['h1', 'db2', 'green', { app: 'db' }],
  ];
  for (const [host, name, network, labels] of placed) {
    const w = await lab.workload(host, name);
    await lab.attach(host, { network, containerId: name, netns: w.path, labels });
  }
  nb = await launchInNetns(`/run/netns/${lab.labNetns}`);
  page = await nb.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => requests.push(ws.url()));
});

afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(running.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await nb?.close();
  await lab.down({ prefix }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('a wrong token is refused: the login page says so and stays', async () => {
  await login(WRONG_TOKEN);
  // The error paragraph is in the page from the start, hidden and empty; it shows once the refusal is back.
  await byTestId('login-error').waitFor({ state: 'visible', timeout: 10_000 });
  await expect(byTestId('login-error').textContent()).resolves.toMatch(/token/i);
  await expect(byTestId('login-token').isVisible()).resolves.toBe(true);
  await expect(page.evaluate(() => (globalThis as unknown as ConsolePage).__weftGraph?.nodes().length ?? 0)).resolves.toBe(0);
});

test('log in: the lab is drawn — 3 hosts, 2 networks, 4 workloads', async () => {
  await login(token);
  await waitForNode('Endpoint', 'db2');
  const nodes = await drawn();
  const labels = (kind: string) => nodes.filter((n) => n.kind === kind).map((n) => n.label);
  expect(labels('Host').join(' ')).toEqual(expect.stringContaining('h1'));
  expect(nodes.filter((n) => n.kind === 'Host')).toHaveLength(3);
  expect(nodes.filter((n) => n.kind === 'Network').map((n) => n.label.split(/\s/)[0]).sort()).toEqual(['blue', 'green']);
  expect(nodes.filter((n) => n.kind === 'Endpoint')).toHaveLength(4);
  await expect(byTestId('conn-state').getAttribute('data-state')).resolves.toBe('connected');
  await page.waitForTimeout(500); // let the graph settle for the picture
  await page.screenshot({ path: join(ARTIFACTS, 'topology.png') });
});

test('a workload attached with `weft run` appears without a reload', async () => {
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  const child = spawn(
    'nsenter',
    [`--net=/run/netns/${lab.host('h2').netns}`, process.execPath, CLI, 'run', '--network', 'green', '--name', 'live1', '--label', 'app=live', '--socket', lab.agentSocket('h2'), '--', 'sleep', '600'],
    { stdio: 'ignore' },
  );
  running.push(child);
  const before = requests.length;
  const t0 = Date.now();
  // When the controller lists it (REST, polled alongside): splits the time into attach and console.
  let known: number | undefined;
  const poll = (async () => {
    while (known === undefined && Date.now() - t0 < 20_000) {
      const eps = await lab.api<ResourceList<Endpoint>>('GET', '/api/v1/endpoints?network=green');
      if (eps.items.some((e) => e.metadata.name.includes('live1'))) known = Date.now() - t0;
      else await new Promise((r) => setTimeout(r, 25));
    }
  })();
  await waitForNode('Endpoint', 'live1');
  const drawnAt = Date.now() - t0;
  await poll;
  console.log(`weft run started -> endpoint listed by the controller ${known ?? '?'} ms -> drawn in the open console ${drawnAt} ms`);
  expect(navigations).toBe(0);
  // It came over the watch: the page fetched nothing meanwhile (no reload, no fallback polling) and stayed connected.
  expect(requests.slice(before)).toEqual([]);
  await expect(byTestId('conn-state').getAttribute('data-state')).resolves.toBe('connected');
});

test('a detail page shows conditions and per-host realization', async () => {
  const blue = (await drawn()).find((n) => n.kind === 'Network' && n.label.startsWith('blue'));
  expect(blue).toBeDefined();
  await page.evaluate((id) => (globalThis as unknown as ConsolePage).__weftGraph?.select(id), blue!.id);
  const details = byTestId('details');
  await details.waitFor({ state: 'visible' });
  await expect(details.textContent()).resolves.toMatch(/100\.64\.10\.0\/24/);
  await expect(details.textContent()).resolves.toMatch(/Ready/);
  const realisation = await byTestId('realisation').textContent();
  for (const h of ['h1', 'h2']) expect(realisation).toContain(h);
  await page.screenshot({ path: join(ARTIFACTS, 'details-network.png') });
});

test('an invalid document shows its error at its line and changes nothing', async () => {
  const before = await networks();
  await byTestId('nav-editor').click();
  await byTestId('editor').waitFor({ state: 'visible' });
  await setEditorText(['apiVersion: weft.dev/v1', 'kind: Network', 'metadata:', '  name: broken', 'spec:', '  subnet: 100.64.300.0/24', ''].join('\n'));
  // The problems list is in the page from the start; wait for the first problem, not for the (empty) list.
  await page.locator('[data-testid="editor-errors"] li').first().waitFor({ timeout: 10_000 });
  await expect(byTestId('editor-errors').textContent()).resolves.toMatch(/6:\d+.*subnet/);
  await expect(byTestId('apply').isDisabled()).resolves.toBe(true);
  await expect(byTestId('review').isDisabled()).resolves.toBe(true);
  expect(await networks()).toEqual(before);
  await page.screenshot({ path: join(ARTIFACTS, 'editor-error.png') });
});

test('applying from the editor shows the diff first, then the new network appears', async () => {
  await setEditorText(['apiVersion: weft.dev/v1', 'kind: Network', 'metadata:', '  name: red', '  labels: { team: console }', 'spec:', '  subnet: 100.64.30.0/24', ''].join('\n'));
  await expect(byTestId('editor-errors').textContent()).resolves.not.toMatch(/\d+:\d+/);
  await byTestId('review').click();
  const item = page.locator('[data-testid="diff-item"][data-action="created"]');
  await item.waitFor({ state: 'visible', timeout: 10_000 });
  await expect(byTestId('diff').textContent()).resolves.toContain('+  subnet: 100.64.30.0/24');
  expect(await networks()).not.toContain('red'); // reviewing applied nothing
  await page.screenshot({ path: join(ARTIFACTS, 'editor-diff.png') });
  await byTestId('apply').click();
  await byTestId('apply-confirm').click();
  await page.locator('[data-testid="apply-result"]', { hasText: 'network/red created' }).waitFor({ timeout: 10_000 });
  expect(await networks()).toContain('red');
  await byTestId('nav-topology').click();
  await waitForNode('Network', 'red');
});

test('a cut watch connection: the console reconnects, resumes from its position, and misses nothing', async () => {
  const sent: string[] = [];
  const received: string[] = [];
  let sockets = 0;
  page.on('websocket', (ws) => {
    sockets++;
    ws.on('framesent', (f) => sent.push(String(f.payload)));
    ws.on('framereceived', (f) => received.push(String(f.payload)));
  });
  // Kill the TCP connections to the controller inside the lab namespace (the console's watch among them).
  const [address, port] = LAB_CONTROLLER_ADDRESS.split(':') as [string, string];
  const cut = spawnSync('nsenter', [`--net=/run/netns/${lab.labNetns}`, 'ss', '-K', 'dst', address, 'dport', '=', `:${port}`], { encoding: 'utf8' });
  expect(cut.status).toBe(0);
  // A change right away, while the console is down or reconnecting (its first retry waits at least 500 ms).
  await lab.createNetwork('amber', '100.64.40.0/24');
  await waitForNode('Network', 'amber');
  await page.locator('[data-testid="conn-state"][data-state="connected"]').waitFor({ timeout: 20_000 });
  expect(sockets).toBeGreaterThanOrEqual(1);
  // It asked to resume from where it was, and was not sent the whole state again.
  const auth = sent.map((s) => JSON.parse(s) as { type: string; since?: string }).find((m) => m.type === 'auth');
  expect(auth?.since).toMatch(/^[0-9a-z]+\.\d+$/);
  const messages: WatchMessage[] = received.flatMap((f) => parseWatchFrame(f));
  expect(messages.some((m) => m.type === 'resync')).toBe(false);
  expect(messages.filter((m) => m.type === 'added').map((m) => (m as { object: { kind: string; metadata: { name: string } } }).object)).toContainEqual(
    expect.objectContaining({ kind: 'Network', metadata: expect.objectContaining({ name: 'amber' }) }),
  );
  expect(messages.filter((m) => m.type === 'added').length).toBeLessThan((await drawn()).length);
});

test('a router is drawn in its host column with its way out, and goes when it is deleted', async () => {
  const router = `${prefix.toLowerCase()}link`;
  const doc = {
    apiVersion: 'weft.dev/v1',
    kind: 'Router',
    metadata: { name: router },
    spec: { host: 'h3', interfaces: [{ network: 'blue' }, { network: 'green' }], external: { mode: 'host' } },
  };
  await lab.api('POST', '/api/v1/routers', doc);
  try {
    await waitForNode('Router', router);
    const drawnRouter = (await drawn()).find((n) => n.kind === 'Router' && n.label.includes(router));
    expect(drawnRouter?.label).toContain('outside');
    await page.screenshot({ path: join(ARTIFACTS, 'topology-router.png') });
  } finally {
    await lab.api('DELETE', `/api/v1/routers/${router}`);
  }
  await page.waitForFunction((name) => !((globalThis as unknown as ConsolePage).__weftGraph?.nodes() ?? []).some((n: DrawnNode) => n.kind === 'Router' && n.label.includes(name as string)), router, {
    timeout: 20_000,
    polling: 50,
  });
});

test('narrow window: the console stays usable (no sideways scrolling)', async () => {
  await page.setViewportSize({ width: 400, height: 800 });
  await byTestId('nav-topology').click();
  // The graph's canvas follows the window on its next frame: give the page a moment to lay out again.
  const settled = await page
    .waitForFunction(() => (globalThis as unknown as ConsolePage).document.documentElement.scrollWidth <= (globalThis as unknown as ConsolePage).document.documentElement.clientWidth, null, { timeout: 5_000 })
    .then(() => true, () => false);
  const overflow = await page.evaluate(() => (globalThis as unknown as ConsolePage).document.documentElement.scrollWidth - (globalThis as unknown as ConsolePage).document.documentElement.clientWidth);
  if (!settled) await page.screenshot({ path: join(ARTIFACTS, 'narrow-overflow.png') });
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, 'narrow.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('the keyboard reaches the graph: arrow keys move between nodes and Enter opens the details', async () => {
  await byTestId('details-close').click().catch(() => undefined);
  await byTestId('topology').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await byTestId('details').waitFor({ state: 'visible', timeout: 5_000 });
  await page.keyboard.press('Escape');
  await byTestId('details').waitFor({ state: 'hidden', timeout: 5_000 });
});

test('every request stayed on the controller\'s origin, none carried the token, and nothing was kept beyond the session', async () => {
  const origin = new URL(LAB_CONTROLLER_URL);
  expect(requests.length).toBeGreaterThan(3);
  for (const url of requests) {
    const u = new URL(url);
    expect(`${u.hostname}:${u.port}`).toBe(`${origin.hostname}:${origin.port}`);
    expect(url).not.toContain(token);
    expect(url).not.toContain(WRONG_TOKEN);
  }
  expect(requests.some((u) => u.startsWith('ws://'))).toBe(true);
  await expect(page.evaluate(() => (globalThis as unknown as { localStorage: { length: number } }).localStorage.length)).resolves.toBe(0);
});
