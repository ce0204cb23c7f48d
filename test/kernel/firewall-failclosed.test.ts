import { jest } from '@jest/globals';
// Issue 6, item 3: the rules stay enforced when the agent dies or the
// controller goes away (fail closed), and a restarted agent takes over the
// table it finds without a moment in which traffic is open.
//
// The policy protects workload B (default deny) and allows tcp/80 from A;
// tcp/82 from A is rejected by an explicit rule (a reset comes back at once,
// so those probes are fast: an "open" window of a few milliseconds shows);
// tcp/81 has no rule, so the default drops it (probed on several lanes, so a
// SYN leaves every ~75 ms). Listeners answer on all three ports: whatever
// does not come back open was stopped by the firewall. Probes run without a
// break through each scenario and are judged against the one policy in
// force the whole time.
import { SingleHostLab, waitFor } from '../support/test-lab.js';
import { describeJudgement, judge, monoMs, ProbeLoop, startListeners, type Expectation, type NsProcess, type Probe } from '../support/firewall-probe.js';
import { attachWorkload, getPolicy, isReady, putPolicy, startAgentDetached, tableHandle, tableSemantics, waitForEndpoints, waitPolicyReady, type Workload } from '../support/firewall-probe-lab.js';
import { callAgent } from '../../runtime/agent-client.js';

jest.setTimeout(180_000);

const lab = new SingleHostLab('fc');
const FAMILY = 'inet';
const TABLE = 'weft-firewall';
const FLOWS = ['a80', 'd81', 'r82'] as const;
const EXPECTED: Expectation = { a80: 'open', d81: 'timeout', r82: 'refused' };
const DOWN_MS = 3_000;
let src: Workload;
let dst: Workload;
let listeners: NsProcess | undefined;
let probes: ProbeLoop | undefined;
let generation = 0;

async function startProbes(): Promise<ProbeLoop> {
  probes = await ProbeLoop.start(
    src.ns,
    [
      { name: 'a80', host: dst.ip, port: 80 },
      { name: 'd81', host: dst.ip, port: 81, lanes: 4 },
      { name: 'r82', host: dst.ip, port: 82, lanes: 2 },
    ],
    { timeoutMs: 300, pauseMs: 5, maxMs: 120_000 },
  );
  for (const f of FLOWS) await probes.waitForMore(f, 2);
  return probes;
}

async function stopProbes(): Promise<Probe[]> {
  const seen = (await probes?.stop()) ?? [];
  probes = undefined;
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Probes of the window [from, to) judged against the one policy. */
function window(all: readonly Probe[], from: number, to: number) {
  return judge(
    all.filter((p) => p.t1 >= from && p.t0 < to),
    EXPECTED,
    [],
  );
}

/** Polls the table's handle until it differs from `old` (the agent replaced the table); resolves with when that was seen. */
async function waitForReplace(old: number | undefined, timeoutMs = 60_000): Promise<{ at: number; handle: number | undefined }> {
  return waitFor(
    'the agent to write the policy table',
    async () => {
      const h = await tableHandle(lab.hostNs, FAMILY, TABLE);
      return h !== old ? { at: monoMs(), handle: h } : undefined;
    },
    timeoutMs,
    10,
  );
}

function agentPid(): number {
  const pid = lab.agent?.child.pid;
  if (pid === undefined) throw new Error('no agent process');
  return pid;
}

async function killAgent(signal: NodeJS.Signals): Promise<void> {
  const a = lab.agent;
  if (!a) return;
  const exited = new Promise<void>((r) => (a.child.exitCode !== null || a.child.signalCode !== null ? r() : a.child.once('exit', () => r())));
  process.kill(agentPid(), signal);
  await exited;
}

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('fc', '198.18.42.0/24');
  src = await attachWorkload(lab, 'fc', 'fc-src', { role: 'src' });
  dst = await attachWorkload(lab, 'fc', 'fc-dst', { role: 'dst' });
  await waitForEndpoints(lab, [src.ip, dst.ip]);
  listeners = await startListeners(dst.ns, [80, 81, 82]);
  generation = await putPolicy(lab, 'guarded', {
    appliesTo: { network: 'fc', selector: { role: 'dst' } },
    ingress: {
      defaultAction: 'deny',
      rules: [
        { name: 'web', action: 'allow', from: [{ cidr: `${src.ip}/32` }], protocol: 'tcp', ports: [80] },
        { name: 'refused', action: 'reject', from: [{ cidr: `${src.ip}/32` }], protocol: 'tcp', ports: [82] },
      ],
    },
  });
  await waitPolicyReady(lab, 'guarded', generation);
});

afterAll(async () => {
  await probes?.stop();
  await listeners?.stop();
  await lab.stop();
});

test('kill -9 of the agent keeps the rules; the restarted agent replaces the table with no moment open', async () => {
  const before = await tableSemantics(lab.hostNs, FAMILY, TABLE);
  const handle0 = await tableHandle(lab.hostNs, FAMILY, TABLE);
  expect(before).toBeDefined();
  await startProbes();

  // the agent dies: nothing cleans up, the kernel keeps enforcing
  const tKill = monoMs();
  await killAgent('SIGKILL');
  // the status does not claim what nobody checks any more
  await waitFor('policy not Ready while its agent is gone', async () => !isReady(await getPolicy(lab, 'guarded'), generation), 15_000, 100);
  await sleep(DOWN_MS);
  expect(await tableSemantics(lab.hostNs, FAMILY, TABLE)).toEqual(before);
  expect(await tableHandle(lab.hostNs, FAMILY, TABLE)).toBe(handle0);

  // restart with the same state dir; probes go on through the start and well after the first write
  const tStart = monoMs();
  const replaced = waitForReplace(handle0);
  await startAgentDetached(lab);
  const { at: tReplaced, handle: handle1 } = await replaced;
  const tSocket = monoMs();
  await sleep(3_000);
  await waitPolicyReady(lab, 'guarded', generation);
  const seen = await stopProbes();
  const tEnd = monoMs();

  const down = window(seen, tKill, tStart);
  const restart = window(seen, tStart, tEnd);
  console.log(
    [
      `agent down ${(tStart - tKill).toFixed(0)} ms: ${describeJudgement(down)}`,
      `restart: socket answers after ${(tSocket - tStart).toFixed(0)} ms, table replaced (handle ${handle0} -> ${handle1}) ${(tReplaced - tStart).toFixed(0)} ms after the start; ` +
        `probes from the start to ${(tEnd - tReplaced).toFixed(0)} ms after the replace: ${describeJudgement(restart)}`,
    ].join('\n'),
  );
  // the windows were probed, the denied flow many times
  expect(down.perFlow.d81?.timeout ?? 0).toBeGreaterThan(10);
  expect(restart.perFlow.d81?.timeout ?? 0).toBeGreaterThan(10);
  expect(down.violations).toEqual([]);
  expect(restart.violations).toEqual([]);
  // the same rules as before, now in a table this agent wrote
  expect(handle1).toBeDefined();
  expect(await tableSemantics(lab.hostNs, FAMILY, TABLE)).toEqual(before);
});

test('controller loss, and an agent restart while it is away: rules stay enforced; the policy is Ready again when it returns', async () => {
  const before = await tableSemantics(lab.hostNs, FAMILY, TABLE);
  await startProbes();

  const tKill = monoMs();
  await lab.controller!.stop('SIGKILL');
  await sleep(DOWN_MS);
  expect(await tableSemantics(lab.hostNs, FAMILY, TABLE)).toEqual(before);

  // the agent restarts (a clean stop this time) and finds no controller: it works from its cached plan
  const tAgentStop = monoMs();
  const handle0 = await tableHandle(lab.hostNs, FAMILY, TABLE);
  await killAgent('SIGTERM');
  expect(await tableSemantics(lab.hostNs, FAMILY, TABLE)).toEqual(before); // a clean stop removes nothing either
  const tAgentStart = monoMs();
  const replaced = waitForReplace(handle0);
  await startAgentDetached(lab);
  const { at: tReplaced, handle: handle1 } = await replaced;
  const health = await callAgent(lab.socket, 'health', {});
  expect(health.controller).toBe('disconnected');
  await sleep(DOWN_MS);
  expect(await tableSemantics(lab.hostNs, FAMILY, TABLE)).toEqual(before);

  // the controller returns (same data, same port): the agent reconnects, the policy is Ready again
  const tBack = monoMs();
  await lab.startController();
  await waitFor('policy Ready after the controller returns', async () => isReady(await getPolicy(lab, 'guarded'), generation), 60_000, 100);
  const tReady = monoMs();
  await sleep(1_000);
  const seen = await stopProbes();
  const tEnd = monoMs();

  const phases = {
    'controller down': window(seen, tKill, tAgentStop),
    'agent restart, controller down': window(seen, tAgentStop, tBack),
    'controller back': window(seen, tBack, tEnd),
  };
  console.log(
    [
      `agent restart without a controller: table replaced (handle ${handle0} -> ${handle1}) ${(tReplaced - tAgentStart).toFixed(0)} ms after the start; ` +
        `controller back -> policy Ready in ${(tReady - tBack).toFixed(0)} ms`,
      ...Object.entries(phases).map(([name, j]) => `${name}: ${describeJudgement(j)}`),
    ].join('\n'),
  );
  for (const j of Object.values(phases)) expect(j.perFlow.d81?.timeout ?? 0).toBeGreaterThan(5);
  for (const [name, j] of Object.entries(phases)) expect({ phase: name, violations: j.violations }).toEqual({ phase: name, violations: [] });
  expect(await tableSemantics(lab.hostNs, FAMILY, TABLE)).toEqual(before);
});
