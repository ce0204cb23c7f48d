// Benchmark: does an open web console slow down attaches or the API? A
// 1-host lab holds 500 endpoints; then attaches run first with no console
// ever opened (the controller's watch has never started), then with the
// console open (headless Chromium in the lab namespace, logged in, watching
// and drawing all 500+ endpoints). After every attach a REST GET of the
// networks is timed too, then the endpoint is detached again, so every
// phase runs at the same size. Printed: attach and GET p50/p99 without and with
// the console, their ratios, and how long a new endpoint takes to show up
// in the console. (Closed rounds cannot follow open ones: the watch keeps
// running for minutes after the last console leaves, to let it resume.)
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { WATCH_PATH } from '../../model/watch.js';
import { Lab, LAB_CONTROLLER_URL, labPrefix } from '../lab/index.js';
import { launchInNetns, type NetnsBrowser } from '../support/console-browser.js';
import { fmtMs, summarize, type Summary } from './stats.js';

const NETWORK = { name: 'bench', subnet: '100.65.0.0/21' };

/** The lab and browser while the benchmark runs, so a signal can take them down too. */
let running: { lab: Lab; prefix: string; dir: string; nb?: NetnsBrowser } | undefined;

/** Take down what a running benchmark made (a signal handler; nothing when none runs). */
export async function stopConsoleLoad(): Promise<void> {
  const r = running;
  running = undefined;
  if (!r) return;
  await r.nb?.close();
  await r.lab.down({ prefix: r.prefix }).catch(() => undefined);
  if (existsSync(r.dir)) rmSync(r.dir, { recursive: true, force: true });
}

export interface ConsoleLoadResult {
  background: number;
  closed: Summary;
  open: Summary;
  /** a bare watch socket open, nothing drawn: the controller's share */
  watchOnly: Summary;
  /** GET /api/v1/networks, through the lab's API relay */
  getClosed: Summary;
  getWatchOnly: Summary;
  getOpen: Summary;
  /** attach returned -> the endpoint drawn in the console */
  shown: Summary;
  /** what the console drew at the end */
  drawnEndpoints: number;
}

interface ConsolePage {
  __weftGraph?: { nodes(): Array<{ kind: string; label: string }> };
}

async function openConsole(nb: NetnsBrowser, token: string, expectEndpoints: number): Promise<Page> {
  const page = await nb.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${LAB_CONTROLLER_URL}/`);
  await page.locator('[data-testid="login-token"]').fill(token);
  await page.locator('[data-testid="login-submit"]').click();
  await page.waitForFunction(
    (n) => ((globalThis as unknown as ConsolePage).__weftGraph?.nodes() ?? []).filter((x) => x.kind === 'Endpoint').length >= (n as number),
    expectEndpoints,
    { timeout: 60_000, polling: 200 },
  );
  return page;
}

/** A blank page holding one authenticated watch socket that only counts what arrives. */
async function openBareWatch(nb: NetnsBrowser, token: string): Promise<Page> {
  const page = await nb.browser.newPage();
  await page.evaluate(
    ([url, t]) =>
      new Promise<void>((resolve, reject) => {
        const g = globalThis as unknown as { WebSocket: new (u: string) => { onopen: () => void; onmessage: (e: { data: string }) => void; onerror: () => void; send(s: string): void }; watched?: number };
        const ws = new g.WebSocket(url as string);
        g.watched = 0;
        ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: t }));
        ws.onmessage = (e) => {
          g.watched = (g.watched ?? 0) + 1;
          if ((JSON.parse(e.data) as { type: string }).type === 'synced') resolve();
        };
        ws.onerror = () => reject(new Error('watch socket failed'));
      }),
    [`${LAB_CONTROLLER_URL.replace(/^http/, 'ws')}${WATCH_PATH}`, token],
  );
  return page;
}

async function endpointsDrawn(page: Page): Promise<number> {
  return page.evaluate(() => ((globalThis as unknown as ConsolePage).__weftGraph?.nodes() ?? []).filter((x) => x.kind === 'Endpoint').length);
}

/**
 * @param background endpoints attached before measuring
 * @param roundsPerPhase rounds of `perRound` attaches in each phase (no console, bare watch socket, console open)
 */
export async function benchConsoleLoad(background = 500, roundsPerPhase = 3, perRound = 25): Promise<ConsoleLoadResult> {
  const prefix = labPrefix('K');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const lab = new Lab({ dir });
  running = { lab, prefix, dir };
  try {
    await lab.up({ hosts: 1, prefix, networks: [NETWORK] });
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    let n = 0;
    const attach = async (): Promise<{ ms: number; name: string }> => {
      const name = `e${n++}`;
      const w = await lab.workload('h1', name);
      const t0 = process.hrtime.bigint();
      await lab.attach('h1', { network: NETWORK.name, containerId: name, netns: w.path });
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, name };
    };
    for (let i = 0; i < background; i++) await attach();

    const nb = await launchInNetns(`/run/netns/${lab.labNetns}`);
    running.nb = nb;
    const closed: number[] = [];
    const open: number[] = [];
    const getClosed: number[] = [];
    const getOpen: number[] = [];
    const timedGet = async (): Promise<number> => {
      const t0 = process.hrtime.bigint();
      await lab.api('GET', '/api/v1/networks');
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const watchOnly: number[] = [];
    const getWatchOnly: number[] = [];
    const phases = [
      { attach: closed, get: getClosed, open: async () => undefined },
      // The controller's share alone: a bare WebSocket following the watch, drawing nothing.
      { attach: watchOnly, get: getWatchOnly, open: () => openBareWatch(nb, token) },
      { attach: open, get: getOpen, open: () => openConsole(nb, token, background) },
    ];
    for (const phase of phases) {
      for (let r = 0; r < roundsPerPhase; r++) {
        const page = await phase.open();
        for (let i = 0; i < perRound; i++) {
          const { ms, name } = await attach();
          phase.attach.push(ms);
          phase.get.push(await timedGet());
          // Back to `background` endpoints: every phase measures at the same size (the phases run one after the other).
          await lab.agent('h1', 'detach', { containerId: name });
        }
        await page?.close();
      }
    }

    // How long until an attach shows in an open console.
    const page = await openConsole(nb, token, background);
    const shown: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { name } = await attach();
      const t0 = process.hrtime.bigint();
      await page.waitForFunction(
        (label) => ((globalThis as unknown as ConsolePage).__weftGraph?.nodes() ?? []).some((x) => x.kind === 'Endpoint' && x.label.includes(label as string)),
        name,
        { timeout: 20_000, polling: 10 },
      );
      shown.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const drawnEndpoints = await endpointsDrawn(page);
    await page.close();
    return {
      background,
      closed: summarize(closed),
      watchOnly: summarize(watchOnly),
      open: summarize(open),
      getClosed: summarize(getClosed),
      getWatchOnly: summarize(getWatchOnly),
      getOpen: summarize(getOpen),
      shown: summarize(shown),
      drawnEndpoints,
    };
  } finally {
    await stopConsoleLoad();
  }
}

export function printConsoleLoad(r: ConsoleLoadResult): void {
  console.log(`\n# attach and API latency with the web console open (1 host, ${r.background} endpoints attached first; first without a console, then with one)`);
  const rows = [
    ['', 'p50', 'p99', 'samples'],
    ['attach, no console', fmtMs(r.closed.p50), fmtMs(r.closed.p99), String(r.closed.n)],
    ['attach, bare watch socket', fmtMs(r.watchOnly.p50), fmtMs(r.watchOnly.p99), String(r.watchOnly.n)],
    ['attach, console open', fmtMs(r.open.p50), fmtMs(r.open.p99), String(r.open.n)],
    ['GET /networks, no console', fmtMs(r.getClosed.p50), fmtMs(r.getClosed.p99), String(r.getClosed.n)],
    ['GET /networks, bare watch socket', fmtMs(r.getWatchOnly.p50), fmtMs(r.getWatchOnly.p99), String(r.getWatchOnly.n)],
    ['GET /networks, console open', fmtMs(r.getOpen.p50), fmtMs(r.getOpen.p99), String(r.getOpen.n)],
  ];
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  '));
  console.log(
    `vs no console (p50): bare watch socket: attach ${(r.watchOnly.p50 / r.closed.p50).toFixed(2)}, GET ${(r.getWatchOnly.p50 / r.getClosed.p50).toFixed(2)}; ` +
      `console open: attach ${(r.open.p50 / r.closed.p50).toFixed(2)}, GET ${(r.getOpen.p50 / r.getClosed.p50).toFixed(2)} (1.00 = no effect; this VM's run-to-run noise is about ±20%)`,
  );
  console.log('(the browser runs on the same 2 vCPUs as the controller and the agent here: "console open" includes its drawing)');
  console.log(`attach returned -> endpoint drawn in the console: p50 ${fmtMs(r.shown.p50)}, max ${fmtMs(r.shown.p99)} (${r.shown.n} attaches); the console drew ${r.drawnEndpoints} endpoints`);
}
