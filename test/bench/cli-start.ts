// How fast the `weft` command answers, as a user runs it (a new process
// each time, wall clock), beside what the same work costs without weft,
// measured in the same run, the kinds taking turns round by round:
//   weft --help         beside `node -e 0` (Node's own start: the floor)
//   weft get networks   beside `node -e 0`, and curl of the same API path
//                       (the request without any client start)
//   weft run            its own overhead: from spawning `weft run` to the
//                       workload's exec, less the attach (timed by this
//                       process through the agent socket in the same
//                       round), beside `ip netns exec NS` from spawn to exec
// Every Node process is timed twice per round: with the environment as it
// is, and without NODE_EXTRA_CA_CERTS, as on a fresh Debian 12. Node reads
// and parses that certificate file at every start (~40 ms for Debian's
// bundle), before any of weft's code runs; the goals are judged on the
// fresh-Debian figures.
// The controller listens on loopback; the agent's datapath and every
// namespace are the lab's (test/support/test-lab.ts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { callAgent } from '../../runtime/agent-client.js';
import { createNetns, deleteNetns } from '../../sys/netns.js';
import { CLI, SingleHostLab } from '../support/test-lab.js';
import { fmtMs, summarize, timed, type Summary } from './stats.js';

const run = promisify(execFile);

/** The figures of the Node processes, under one environment. */
export interface CliStartVariant {
  label: string;
  nodeStart: Summary;
  help: Summary;
  get: Summary;
  runToExec: Summary;
  attach: Summary;
  runOverhead: Summary;
  runTotal: Summary;
}

export interface CliStartResult {
  rounds: number;
  /** As the environment has it, then without NODE_EXTRA_CA_CERTS; one only when the variable is not set. */
  variants: CliStartVariant[];
  curlGet?: Summary;
  ipNetnsExecToExec: Summary;
  ipNetnsExecTotal: Summary;
}

const CA_VARIABLE = 'NODE_EXTRA_CA_CERTS';

/** Wall-clock now in ms (µs resolution), on the clock `date +%s%N` reads. */
const nowMs = () => performance.timeOrigin + performance.now();

/** The time a workload printed with `date +%s%N`, in ms. */
function printedMs(stdout: string): number {
  const m = /(\d{19})/.exec(stdout);
  if (!m) throw new Error(`the workload printed no time: ${JSON.stringify(stdout)}`);
  return Number(BigInt(m[1] as string) / 1000n) / 1000;
}

async function curlAvailable(): Promise<boolean> {
  try {
    await run('curl', ['--version']);
    return true;
  } catch {
    return false;
  }
}

interface VariantSamples {
  node: number[];
  help: number[];
  get: number[];
  runToExec: number[];
  attach: number[];
  runTotal: number[];
}

export async function benchCliStart(rounds = 30): Promise<CliStartResult> {
  const lab = new SingleHostLab('q');
  const made = new Set<string>();
  try {
    await lab.start();
    await lab.createNetwork('bench', '100.66.0.0/24');
    const asIs = { ...process.env, WEFT_SERVER: lab.url, WEFT_TOKEN: lab.token };
    const fresh: NodeJS.ProcessEnv = { ...asIs };
    delete fresh[CA_VARIABLE];
    const caFile = process.env[CA_VARIABLE];
    const envs = caFile === undefined ? [{ label: `no ${CA_VARIABLE} (as on a fresh Debian 12)`, env: fresh }] : [
      { label: `as this environment has it (${CA_VARIABLE}=${caFile})`, env: asIs },
      { label: `without ${CA_VARIABLE} (as on a fresh Debian 12)`, env: fresh },
    ];
    const curl = await curlAvailable();
    const peerNs = `${lab.prefix}peer`;
    createNetns(peerNs);
    made.add(peerNs);
    const stamp = ['sh', '-c', 'date +%s%N'];

    const perEnv: VariantSamples[] = envs.map(() => ({ node: [], help: [], get: [], runToExec: [], attach: [], runTotal: [] }));
    const curlMs: number[] = [];
    const ipToExec: number[] = [];
    const ipTotal: number[] = [];
    let seq = 0;
    // Round 0 warms the page cache and the lab (first bridge, first plan) and is not kept.
    for (let round = 0; round <= rounds; round++) {
      const keep = round > 0;
      const add = (list: number[], ms: number) => keep && list.push(ms);
      for (const [i, { env }] of envs.entries()) {
        const samples = perEnv[i] as VariantSamples;
        add(samples.node, (await timed(() => run(process.execPath, ['-e', '0'], { env }))).ms);
        add(samples.help, (await timed(() => run(process.execPath, [CLI, '--help'], { env }))).ms);
        add(samples.get, (await timed(() => run(process.execPath, [CLI, 'get', 'networks'], { env }))).ms);

        // The attach as a runtime sees it, into a namespace made beforehand.
        const ns = `${lab.prefix}a${seq}`;
        const nsPath = createNetns(ns);
        made.add(ns);
        add(samples.attach, (await timed(() => callAgent(lab.socket, 'attach', { network: 'bench', containerId: `q${seq}`, netns: nsPath }))).ms);
        await callAgent(lab.socket, 'detach', { containerId: `q${seq}` });
        deleteNetns(ns);
        made.delete(ns);

        const runStart = nowMs();
        const runOut = await timed(() => run(process.execPath, [CLI, 'run', '--network', 'bench', '--name', `r${seq}`, '--socket', lab.socket, '--', ...stamp], { env }));
        add(samples.runToExec, printedMs(runOut.value.stdout) - runStart);
        add(samples.runTotal, runOut.ms);
        seq++;
      }
      if (curl) add(curlMs, (await timed(() => run('curl', ['-sf', '-H', `authorization: Bearer ${lab.token}`, `${lab.url}/api/v1/networks`]))).ms);
      const ipStart = nowMs();
      const ipOut = await timed(() => run('ip', ['netns', 'exec', peerNs, ...stamp]));
      add(ipToExec, printedMs(ipOut.value.stdout) - ipStart);
      add(ipTotal, ipOut.ms);
    }
    const result: CliStartResult = {
      rounds,
      variants: envs.map(({ label }, i) => {
        const samples = perEnv[i] as VariantSamples;
        return {
          label,
          nodeStart: summarize(samples.node),
          help: summarize(samples.help),
          get: summarize(samples.get),
          runToExec: summarize(samples.runToExec),
          attach: summarize(samples.attach),
          // Pairwise by round: the attach of the same round is the best estimate of this run's.
          runOverhead: summarize(samples.runToExec.map((ms, r) => ms - (samples.attach[r] as number))),
          runTotal: summarize(samples.runTotal),
        };
      }),
      ipNetnsExecToExec: summarize(ipToExec),
      ipNetnsExecTotal: summarize(ipTotal),
    };
    if (curl) result.curlGet = summarize(curlMs);
    return result;
  } finally {
    for (const name of made) {
      try {
        deleteNetns(name);
      } catch {
        // the lab sweep below removes what is left
      }
    }
    await lab.stop();
  }
}

export function printCliStart(r: CliStartResult): void {
  console.log(`\n# weft CLI start, a new process per command, wall clock, ${r.rounds} rounds (the kinds take turns)`);
  for (const v of r.variants) {
    console.log(`\n## Node ${v.label}`);
    const rows: [string, Summary, string, Summary | undefined][] = [
      ['weft --help', v.help, 'node -e 0', v.nodeStart],
      ['weft get networks', v.get, 'node -e 0', v.nodeStart],
      ['weft get networks', v.get, 'curl (request alone)', r.curlGet],
      ['weft run: spawn -> exec, less attach', v.runOverhead, 'ip netns exec: spawn -> exec', r.ipNetnsExecToExec],
      ['weft run -- sh (total)', v.runTotal, 'ip netns exec -- sh (total)', r.ipNetnsExecTotal],
    ];
    const table = [
      ['command', 'weft p50', 'weft p99', 'peer', 'peer p50', 'weft / peer (p50)'],
      ...rows.map(([label, weft, peerName, peer]) => [label, fmtMs(weft.p50), fmtMs(weft.p99), peerName, peer ? fmtMs(peer.p50) : 'n/a', peer ? `${(weft.p50 / peer.p50).toFixed(2)}x` : 'n/a']),
    ];
    const widths = (table[0] as string[]).map((_, c) => Math.max(...table.map((row) => (row[c] as string).length)));
    for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  '));
    console.log(`weft run spawn -> exec p50 ${fmtMs(v.runToExec.p50)}, of which the attach (through the agent socket, same rounds) p50 ${fmtMs(v.attach.p50)}`);
  }
  console.log('\n(weft run also makes and removes its namespace; ip netns exec enters one that exists)');
  console.log(`targets, judged without ${CA_VARIABLE} (a fresh Debian 12): weft --help and weft get networks < 150 ms; weft run overhead < 100 ms`);
}
