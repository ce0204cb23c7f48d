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
// The controller listens on loopback; the agent's datapath and every
// namespace are the lab's (test/support/test-lab.ts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { callAgent } from '../../runtime/agent-client.js';
import { createNetns, deleteNetns } from '../../sys/netns.js';
import { CLI, SingleHostLab } from '../support/test-lab.js';
import { fmtMs, summarize, timed, type Summary } from './stats.js';

const run = promisify(execFile);

export interface CliStartResult {
  rounds: number;
  nodeStart: Summary;
  help: Summary;
  get: Summary;
  curlGet?: Summary;
  runToExec: Summary;
  attach: Summary;
  runOverhead: Summary;
  ipNetnsExecToExec: Summary;
  runTotal: Summary;
  ipNetnsExecTotal: Summary;
}

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

export async function benchCliStart(rounds = 30): Promise<CliStartResult> {
  const lab = new SingleHostLab('q');
  const made = new Set<string>();
  try {
    await lab.start();
    await lab.createNetwork('bench', '100.66.0.0/24');
    const env = { ...process.env, WEFT_SERVER: lab.url, WEFT_TOKEN: lab.token };
    const curl = await curlAvailable();
    const peerNs = `${lab.prefix}peer`;
    createNetns(peerNs);
    made.add(peerNs);
    const stamp = ['sh', '-c', 'date +%s%N'];

    const samples = { node: [] as number[], help: [] as number[], get: [] as number[], curl: [] as number[], runToExec: [] as number[], attach: [] as number[], ipToExec: [] as number[], runTotal: [] as number[], ipTotal: [] as number[] };
    // Round 0 warms the page cache and the lab (first bridge, first plan) and is not kept.
    for (let round = 0; round <= rounds; round++) {
      const keep = round > 0;
      const add = (list: number[], ms: number) => keep && list.push(ms);
      add(samples.node, (await timed(() => run(process.execPath, ['-e', '0']))).ms);
      add(samples.help, (await timed(() => run(process.execPath, [CLI, '--help']))).ms);
      add(samples.get, (await timed(() => run(process.execPath, [CLI, 'get', 'networks'], { env }))).ms);
      if (curl) add(samples.curl, (await timed(() => run('curl', ['-sf', '-H', `authorization: Bearer ${lab.token}`, `${lab.url}/api/v1/networks`]))).ms);

      // The attach as a runtime sees it, into a namespace made beforehand.
      const ns = `${lab.prefix}a${round}`;
      const nsPath = createNetns(ns);
      made.add(ns);
      add(samples.attach, (await timed(() => callAgent(lab.socket, 'attach', { network: 'bench', containerId: `q${round}`, netns: nsPath }))).ms);
      await callAgent(lab.socket, 'detach', { containerId: `q${round}` });
      deleteNetns(ns);
      made.delete(ns);

      const runStart = nowMs();
      const runOut = await timed(() => run(process.execPath, [CLI, 'run', '--network', 'bench', '--name', `r${round}`, '--socket', lab.socket, '--', ...stamp]));
      add(samples.runToExec, printedMs(runOut.value.stdout) - runStart);
      add(samples.runTotal, runOut.ms);
      const ipStart = nowMs();
      const ipOut = await timed(() => run('ip', ['netns', 'exec', peerNs, ...stamp]));
      add(samples.ipToExec, printedMs(ipOut.value.stdout) - ipStart);
      add(samples.ipTotal, ipOut.ms);
    }
    const runToExec = summarize(samples.runToExec);
    const attach = summarize(samples.attach);
    // Pairwise by round: the attach of the same round is the best estimate of this run's.
    const overhead = summarize(samples.runToExec.map((ms, i) => ms - (samples.attach[i] as number)));
    const result: CliStartResult = {
      rounds,
      nodeStart: summarize(samples.node),
      help: summarize(samples.help),
      get: summarize(samples.get),
      runToExec,
      attach,
      runOverhead: overhead,
      ipNetnsExecToExec: summarize(samples.ipToExec),
      runTotal: summarize(samples.runTotal),
      ipNetnsExecTotal: summarize(samples.ipTotal),
    };
    if (curl) result.curlGet = summarize(samples.curl);
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
  const rows: [string, Summary, string, Summary | undefined][] = [
    ['weft --help', r.help, 'node -e 0', r.nodeStart],
    ['weft get networks', r.get, 'node -e 0', r.nodeStart],
    ['weft get networks', r.get, 'curl (request alone)', r.curlGet],
    ['weft run: spawn -> exec, less attach', r.runOverhead, 'ip netns exec: spawn -> exec', r.ipNetnsExecToExec],
    ['weft run -- sh (total)', r.runTotal, 'ip netns exec -- sh (total)', r.ipNetnsExecTotal],
  ];
  const table = [
    ['command', 'weft p50', 'weft p99', 'peer', 'peer p50', 'weft / peer (p50)'],
    ...rows.map(([label, weft, peerName, peer]) => [label, fmtMs(weft.p50), fmtMs(weft.p99), peerName, peer ? fmtMs(peer.p50) : 'n/a', peer ? `${(weft.p50 / peer.p50).toFixed(2)}x` : 'n/a']),
  ];
  const widths = (table[0] as string[]).map((_, c) => Math.max(...table.map((row) => (row[c] as string).length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  '));
  console.log(`weft run spawn -> exec p50 ${fmtMs(r.runToExec.p50)}, of which the attach (through the agent socket, same rounds) p50 ${fmtMs(r.attach.p50)}`);
  console.log('(weft run also makes and removes its namespace; ip netns exec enters one that exists)');
  console.log('targets: weft --help and weft get networks < 150 ms; weft run overhead < 100 ms');
}
