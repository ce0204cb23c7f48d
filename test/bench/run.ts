// `npm run bench`: every benchmark, each printing weft beside its peer
// measured in the same run. Benchmarks never assert timings.
//
// Knobs: WEFT_BENCH_COUNT and WEFT_BENCH_LARGE (attach), WEFT_BENCH_CNI_COUNTS
// (cni: a comma list of container counts, each a run of its own),
// WEFT_BENCH_ROUNDS (overlay convergence), WEFT_BENCH_FIRST_ROUNDS (first
// packet, each direction), WEFT_BENCH_CLI_ROUNDS (cli), WEFT_BENCH_SKIP: a
// comma list of attach, cni, convergence, first-packet, throughput, apply,
// firewall, firewall-e2e, console, cli, router. The router benchmark's own knobs: see
// router-bench.ts.
import { benchApplyScale, printApplyScale } from './apply-scale.js';
import { benchAttach, printAttach } from './attach-latency.js';
import { benchCliStart, printCliStart } from './cli-start.js';
import { benchCniPlugin, printCniPlugin } from './cni-plugin.js';
import { benchConsoleLoad, printConsoleLoad, stopConsoleLoad } from './console-load.js';
import { benchFirewall, benchFirewallEndToEnd, stopFirewallLabNow } from './firewall-bench.js';
import { benchFirstPacket, printFirstPacket } from './first-packet.js';
import { benchConvergence, printConvergence } from './overlay-convergence.js';
import { startOverlayLab, stopOverlayLab, type OverlayLab } from './overlay-lab.js';
import { benchThroughput, printThroughput } from './overlay-throughput.js';
import { benchRouter, printRouter, stopRouterBench } from './router-bench.js';

const COUNT = Number(process.env.WEFT_BENCH_COUNT ?? 200);
const LARGE = Number(process.env.WEFT_BENCH_LARGE ?? 500);
const CNI_COUNTS = (process.env.WEFT_BENCH_CNI_COUNTS ?? '100,500').split(',').map((s) => Number(s.trim()));
const ROUNDS = Number(process.env.WEFT_BENCH_ROUNDS ?? 50);
const FIRST_ROUNDS = Number(process.env.WEFT_BENCH_FIRST_ROUNDS ?? 200);
const CLI_ROUNDS = Number(process.env.WEFT_BENCH_CLI_ROUNDS ?? 30);
const BENCHES = ['attach', 'cni', 'convergence', 'first-packet', 'throughput', 'apply', 'firewall', 'firewall-e2e', 'console', 'cli', 'router'];
const SKIP = new Set((process.env.WEFT_BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));

/** The lab of the overlay benchmarks while it is up, so a signal can take it down too. */
let overlayLab: OverlayLab | undefined;

async function overlay(): Promise<void> {
  const convergence = !SKIP.has('convergence');
  const firstPacket = !SKIP.has('first-packet');
  const throughput = !SKIP.has('throughput');
  if (!convergence && !firstPacket && !throughput) return;
  overlayLab = await startOverlayLab();
  try {
    if (convergence) printConvergence(await benchConvergence(overlayLab.lab, overlayLab.network, ROUNDS));
    if (firstPacket) printFirstPacket(await benchFirstPacket(overlayLab.lab, overlayLab.network, FIRST_ROUNDS));
    if (throughput) printThroughput(await benchThroughput(overlayLab.lab, overlayLab.network));
  } finally {
    const o = overlayLab;
    overlayLab = undefined;
    await stopOverlayLab(o);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmarks need root (network namespaces)');
  const unknown = [...SKIP].filter((s) => !BENCHES.includes(s));
  if (unknown.length > 0) throw new Error(`WEFT_BENCH_SKIP: unknown ${unknown.join(', ')} (benchmarks: ${BENCHES.join(', ')})`);
  if (CNI_COUNTS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`WEFT_BENCH_CNI_COUNTS=${process.env.WEFT_BENCH_CNI_COUNTS}: use a comma list of positive integers`);
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`WEFT_BENCH_ROUNDS=${process.env.WEFT_BENCH_ROUNDS}: use a positive integer`);
  if (!Number.isInteger(FIRST_ROUNDS) || FIRST_ROUNDS < 1) throw new Error(`WEFT_BENCH_FIRST_ROUNDS=${process.env.WEFT_BENCH_FIRST_ROUNDS}: use a positive integer`);
  if (!Number.isInteger(CLI_ROUNDS) || CLI_ROUNDS < 1) throw new Error(`WEFT_BENCH_CLI_ROUNDS=${process.env.WEFT_BENCH_CLI_ROUNDS}: use a positive integer`);
  if (!SKIP.has('attach')) {
    const r = await benchAttach(COUNT, LARGE);
    printAttach(r, COUNT);
  }
  if (!SKIP.has('cni')) printCniPlugin(await benchCniPlugin(CNI_COUNTS));
  if (!SKIP.has('cli')) printCliStart(await benchCliStart(CLI_ROUNDS));
  if (!SKIP.has('console')) printConsoleLoad(await benchConsoleLoad());
  await overlay();
  if (!SKIP.has('apply')) printApplyScale(await benchApplyScale());
  const agentOnly = SKIP.has('firewall') ? undefined : await benchFirewall();
  if (!SKIP.has('firewall-e2e')) await benchFirewallEndToEnd(agentOnly);
  if (!SKIP.has('router')) printRouter(await benchRouter());
}

// The lab's controller and agents run detached: without this, Ctrl-C would
// leave them and the namespaces behind.
let signalled = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    signalled = true;
    stopFirewallLabNow();
    const o = overlayLab;
    overlayLab = undefined;
    void Promise.all([o ? stopOverlayLab(o) : Promise.resolve(), stopConsoleLoad(), stopRouterBench()])
      .catch((e: unknown) => console.error(`bench: tearing down the lab failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  // after a signal its handler exits, once the labs are down
  if (!signalled) process.exit(1);
});
