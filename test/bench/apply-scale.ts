// `weft apply -f` at scale: one generated file with 500 networks and 5,000
// declared endpoints (static addresses), applied to a controller running as
// a child process, then applied again (every resource unchanged). Reports
// wall times of the CLI as a user runs it and the controller's RSS.
// Addresses stay in 100.64.0.0/10 (the test address plan) though nothing
// here touches the kernel.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, startProc, waitFor, type Proc } from '../support/test-lab.js';

const run = promisify(execFile);

export interface ApplyScaleResult {
  networks: number;
  endpoints: number;
  fileBytes: number;
  firstMs: number;
  firstSummary: string;
  secondMs: number;
  secondSummary: string;
  rssAfterStartMiB: number;
  rssAfterApplyMiB: number;
  revisionAfterFirst: number;
  revisionAfterSecond: number;
}

/** Networks 100.64.0.0/24, 100.64.1.0/24, ...; endpoints spread over 10 hosts with .10, .11, ... */
export function generateTopology(networks: number, endpoints: number): string {
  const docs: string[] = [];
  const perNet = Math.ceil(endpoints / networks);
  for (let n = 0; n < networks; n++) {
    const third = n % 256;
    const second = 64 + Math.floor(n / 256);
    docs.push(`apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: net-${n}\n  labels: { bench: apply }\nspec:\n  subnet: 100.${second}.${third}.0/24\n`);
  }
  for (let e = 0; e < endpoints; e++) {
    const n = Math.floor(e / perNet);
    const k = e % perNet;
    const third = n % 256;
    const second = 64 + Math.floor(n / 256);
    docs.push(
      `apiVersion: weft.dev/v1\nkind: Endpoint\nmetadata:\n  name: ep-${e}\n  labels: { bench: apply }\nspec:\n  network: net-${n}\n  host: h${e % 10}\n` +
        `  containerId: c${e}\n  ifname: eth0\n  ip: 100.${second}.${third}.${10 + k}\n`,
    );
  }
  return docs.join('---\n');
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function timedApply(file: string, env: Record<string, string>): Promise<{ ms: number; summary: string }> {
  const t0 = process.hrtime.bigint();
  const { stdout } = await run(process.execPath, [CLI, 'apply', '-f', file], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const counts = new Map<string, number>();
  for (const line of stdout.trim().split('\n')) {
    const action = line.slice(line.lastIndexOf(' ') + 1);
    counts.set(action, (counts.get(action) ?? 0) + 1);
  }
  return { ms, summary: [...counts].map(([a, n]) => `${n} ${a}`).join(', ') };
}

export async function benchApplyScale(networks = 500, endpoints = 5000): Promise<ApplyScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), `wt${process.pid % 100000}a-`));
  let controller: Proc | undefined;
  try {
    const file = join(dir, 'topology.yaml');
    writeFileSync(file, generateTopology(networks, endpoints));
    controller = startProc([CLI, 'controller', '--listen', '127.0.0.1:0', '--data', join(dir, 'controller'), '--log-level', 'warn']);
    const c = controller;
    const url = await waitFor('controller to listen', async () => /listening on (http:\/\/[0-9.:]+)/.exec(c.output())?.[1]);
    const token = readFileSync(join(dir, 'controller/admin.token'), 'utf8').trim();
    const env = { WEFT_SERVER: url, WEFT_TOKEN: token };
    const pid = c.child.pid as number;
    const revision = async () => ((await (await fetch(`${url}/healthz`)).json()) as { revision: number }).revision;
    const rssAfterStartMiB = rssMiB(pid);
    const first = await timedApply(file, env);
    const rssAfterApplyMiB = rssMiB(pid);
    const revisionAfterFirst = await revision();
    const second = await timedApply(file, env);
    return {
      networks, endpoints, fileBytes: statSync(file).size,
      firstMs: first.ms, firstSummary: first.summary, secondMs: second.ms, secondSummary: second.summary,
      rssAfterStartMiB, rssAfterApplyMiB, revisionAfterFirst, revisionAfterSecond: await revision(),
    };
  } finally {
    await controller?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printApplyScale(r: ApplyScaleResult): void {
  const mib = (b: number) => `${(b / (1024 * 1024)).toFixed(1)} MiB`;
  console.log(`\n# apply at scale: one file, ${r.networks} networks + ${r.endpoints} declared endpoints (${mib(r.fileBytes)} of YAML), controller as a child process`);
  console.log(`weft apply -f (first, creates): ${(r.firstMs / 1000).toFixed(2)} s wall [${r.firstSummary}]; store revision ${r.revisionAfterFirst}`);
  console.log(`weft apply -f (second, no-op): ${(r.secondMs / 1000).toFixed(2)} s wall [${r.secondSummary}]; store revision ${r.revisionAfterSecond}`);
  console.log(`controller RSS: ${r.rssAfterStartMiB.toFixed(0)} MiB after start, ${r.rssAfterApplyMiB.toFixed(0)} MiB after the first apply`);
  console.log(
    '(wall time of the whole CLI process: Node start-up, reading and validating the YAML, one POST /api/v1/apply, printing the results; ' +
      'peer: none in this run — no kubectl/API server is measured beside it)',
  );
}
