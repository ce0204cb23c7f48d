// Benchmark: does an open web console slow down attaches or the API? A
// 1-host lab holds 500 endpoints; attaches then run in four kinds of round:
// no console; a bare watch socket (the controller's share alone); the
// console open (headless Chromium in the lab namespace, logged in, watching
// and drawing all 500+ endpoints); and no console again, a control that
// shows this run's noise. The kinds take turns, block after block, in a
// balanced order (TURNS), so drift (a warming cache, a busy neighbour) falls
// on all of them alike; a closed console costs nothing (the watch pauses
// while no one watches), so a "no console" round after an open one is fair.
// After every attach a REST GET of the networks is timed too, then the
// endpoint is detached again, so every round runs at the same size.
// Printed: attach and GET p50/p99 per kind, each kind's p50 against no
// console with a 95% interval (whole blocks resampled), the control's, the
// CPU each process group used per round trip, and how long a new endpoint
// takes to show up in the console.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { WATCH_PATH } from '../../model/watch.js';
import { Lab, LAB_CONTROLLER_URL, labPrefix, pidsInNetns } from '../lab/index.js';
import { launchInNetns, type NetnsBrowser } from '../support/console-browser.js';
import { ProcessCpu, type CpuSample } from './process-cpu.js';
import { fmtMs, medianShift, summarize, timed, type Interval, type Summary } from './stats.js';

type Shift = { shift: number; interval: Interval };

const NETWORK = { name: 'bench', subnet: '100.65.0.0/21' };
/** Wait after opening a round's page (or not opening one) before measuring. */
const SETTLE_MS = 1_500;
/**
 * The order of the four kinds of round in successive blocks (indices into
 * no console, bare watch, console open, control): a balanced Latin square,
 * so over four blocks each kind comes first once and follows each other
 * kind once, and what a round leaves behind (a browser page closing, the
 * watch pausing) falls on all kinds alike.
 */
const TURNS = [
  [0, 1, 3, 2],
  [1, 2, 0, 3],
  [2, 3, 1, 0],
  [3, 0, 2, 1],
];

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
  /** no console again, measured alongside: the run's noise */
  control: Summary;
  getControl: Summary;
  /** p50 of each kind against both kinds of "no console" round together, with 95% intervals; and the control against no console */
  shifts: Array<{ what: string; watchOnly: Shift; open: Shift; control: Shift }>;
  /** attach returned -> the endpoint drawn in the console */
  shown: Summary;
  /** what the console drew at the end */
  drawnEndpoints: number;
  /** CPU ms per attach round trip (attach, GET, detach) by process group, per phase */
  cpu: { closed: CpuSample; watchOnly: CpuSample; open: CpuSample; control: CpuSample };
}

/** The processes the bench charges CPU to, by their command lines. */
function classify(cmdline: string[]): string | undefined {
  const argv0 = cmdline[0] ?? '';
  if (/chrom/.test(argv0)) return 'browser';
  for (const g of ['controller', 'agent', 'api-relay']) if (cmdline.includes(g)) return g;
  return undefined;
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
          // A frame holds one message or an array of them (model/watch.ts).
          const parsed = JSON.parse(e.data) as { type: string } | Array<{ type: string }>;
          const messages = Array.isArray(parsed) ? parsed : [parsed];
          g.watched = (g.watched ?? 0) + messages.length;
          if (messages.some((m) => m.type === 'synced')) resolve();
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
 * @param rounds rounds of `perRound` attaches of each kind (no console, bare watch socket, console open, no console again)
 */
export async function benchConsoleLoad(background = 500, rounds = 12, perRound = 12): Promise<ConsoleLoadResult> {
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
      const { ms } = await timed(() => lab.attach('h1', { network: NETWORK.name, containerId: name, netns: w.path }));
      return { ms, name };
    };
    for (let i = 0; i < background; i++) await attach();

    const nb = await launchInNetns(`/run/netns/${lab.labNetns}`);
    running.nb = nb;
    const timedGet = async (): Promise<number> => (await timed(() => lab.api('GET', '/api/v1/networks'))).ms;
    const cpuOf = () => new ProcessCpu(() => [...pidsInNetns(`/run/netns/${lab.labNetns}`), ...pidsInNetns(`/run/netns/${lab.host('h1').netns}`)], classify);
    const phase = (open: () => Promise<Page | undefined>) => ({ attach: [] as number[][], get: [] as number[][], cpu: new Map() as CpuSample, open });
    const phases = {
      closed: phase(async () => undefined),
      // The controller's share alone: a bare WebSocket following the watch, drawing nothing.
      watchOnly: phase(() => openBareWatch(nb, token)),
      open: phase(() => openConsole(nb, token, background)),
      // The same as `closed`, measured alongside it: how far two measurements of the same thing differ in this run.
      control: phase(async () => undefined),
    };
    const kinds = [phases.closed, phases.watchOnly, phases.open, phases.control];
    for (let r = 0; r < rounds; r++) {
      for (const k of TURNS[r % TURNS.length] as number[]) {
        const p = kinds[k] as (typeof kinds)[number];
        const page = await p.open();
        // Let a page just opened finish its first drawing (and the rounds without one wait alike).
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const cpu = cpuOf();
        cpu.start();
        const attaches: number[] = [];
        const gets: number[] = [];
        p.attach.push(attaches);
        p.get.push(gets);
        for (let i = 0; i < perRound; i++) {
          const { ms, name } = await attach();
          attaches.push(ms);
          gets.push(await timedGet());
          // Back to `background` endpoints: every round measures at the same size.
          await lab.agent('h1', 'detach', { containerId: name });
        }
        cpu.poll();
        for (const [g, ms] of cpu.used()) p.cpu.set(g, (p.cpu.get(g) ?? 0) + ms / (rounds * perRound));
        await page?.close();
      }
    }

    // How long until an attach shows in an open console.
    const page = await openConsole(nb, token, background);
    const shown: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { name } = await attach();
      const drawn = await timed(() =>
        page.waitForFunction(
          (label) => ((globalThis as unknown as ConsolePage).__weftGraph?.nodes() ?? []).some((x) => x.kind === 'Endpoint' && x.label.includes(label as string)),
          name,
          { timeout: 20_000, polling: 10 },
        ),
      );
      shown.push(drawn.ms);
    }
    const drawnEndpoints = await endpointsDrawn(page);
    await page.close();
    return {
      background,
      closed: summarize(phases.closed.attach.flat()),
      watchOnly: summarize(phases.watchOnly.attach.flat()),
      open: summarize(phases.open.attach.flat()),
      control: summarize(phases.control.attach.flat()),
      getClosed: summarize(phases.closed.get.flat()),
      getWatchOnly: summarize(phases.watchOnly.get.flat()),
      getOpen: summarize(phases.open.get.flat()),
      getControl: summarize(phases.control.get.flat()),
      shifts: (['attach', 'get'] as const).map((what) => {
        // Block by block: the two no-console rounds of a block together.
        const baseline = phases.closed[what].map((round, i) => [...round, ...(phases.control[what][i] as number[])]);
        return {
          what: what === 'attach' ? 'attach' : 'GET /networks',
          watchOnly: medianShift(phases.watchOnly[what], baseline),
          open: medianShift(phases.open[what], baseline),
          // Two measurements of the same thing: its interval should hold 0, and shows the noise.
          control: medianShift(phases.control[what], phases.closed[what]),
        };
      }),
      shown: summarize(shown),
      drawnEndpoints,
      cpu: { closed: phases.closed.cpu, watchOnly: phases.watchOnly.cpu, open: phases.open.cpu, control: phases.control.cpu },
    };
  } finally {
    await stopConsoleLoad();
  }
}

export function printConsoleLoad(r: ConsoleLoadResult): void {
  console.log(`\n# attach and API latency with the web console open (1 host, ${r.background} endpoints attached first; the kinds of round take turns)`);
  const kinds: Array<[string, Summary, Summary, CpuSample]> = [
    ['no console', r.closed, r.getClosed, r.cpu.closed],
    ['bare watch socket', r.watchOnly, r.getWatchOnly, r.cpu.watchOnly],
    ['console open', r.open, r.getOpen, r.cpu.open],
    ['no console again (control)', r.control, r.getControl, r.cpu.control],
  ];
  const rows = [
    ['', 'attach p50', 'attach p99', 'GET p50', 'GET p99', 'samples'],
    ...kinds.map(([label, attach, get]) => [label, fmtMs(attach.p50), fmtMs(attach.p99), fmtMs(get.p50), fmtMs(get.p99), String(attach.n)]),
  ];
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  '));
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const shown = (s: Shift) => `${pct(s.shift)} (95% interval ${pct(s.interval.low)} to ${pct(s.interval.high)}${s.interval.low <= 0 && s.interval.high >= 0 ? ', holds 0: within noise' : ''})`;
  console.log('p50 against no console (both kinds of no-console round together), resampling whole rounds:');
  for (const s of r.shifts) {
    console.log(`  ${s.what}: bare watch socket ${shown(s.watchOnly)}`);
    console.log(`  ${s.what}: console open ${shown(s.open)}`);
    console.log(`  ${s.what}: control, no console against no console ${shown(s.control)}`);
  }
  const groups = ['controller', 'agent', 'api-relay', 'browser'];
  console.log('CPU ms per round trip (attach, GET, detach), by process:');
  for (const [label, , , cpu] of kinds) console.log(`  ${label.padEnd(27)} ${groups.map((g) => `${g} ${(cpu.get(g) ?? 0).toFixed(1)}`).join(', ')}`);
  console.log('(the browser runs on the same 2 vCPUs as the controller and the agent here: "console open" includes its drawing)');
  console.log(`attach returned -> endpoint drawn in the console: p50 ${fmtMs(r.shown.p50)}, max ${fmtMs(r.shown.p99)} (${r.shown.n} attaches); the console drew ${r.drawnEndpoints} endpoints`);
}
