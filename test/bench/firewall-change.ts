// Benchmark: one firewall rule changes on a host that holds 10,000 rules.
//
// weft: what the agent does on a plan update — compile the host's whole new
// policy list (compilePolicies, with the agent's CompileCache: only the
// changed rule's block is repacked), diff it against the model in force
// (diffPolicyTable), apply the diff document in the host namespace (a small
// document: libnftables in process).
// Peer 1 (same compiler, naive apply): re-render the whole table
// (renderPolicyTable, compiled without a cache) and load it. Peer 2 (reference): a linear chain of one
// nft rule per firewall rule, changed by replacing the rule (and its reply
// mirror) by handle.
//
// Every change edits a different rule: even changes move its port, odd ones
// its peer address. The first WARMUP changes are not counted (JIT).
import { CompileCache, compilePolicies } from '../../agents/firewall/policy-compiler.js';
import type { PolicyModel } from '../../agents/datapath/policy-model.js';
import { POLICY_TABLE, diffPolicyTable, renderPolicyTable } from '../../agents/datapath/nft/policy-ruleset.js';
import { isRuleObject, type NftDocument } from '../../model/nft-json.js';
import type { PlanFirewallPolicy } from '../../model/agent-protocol.js';
import type { FirewallLab } from './firewall-lab.js';
import { NAIVE_CHAIN, NAIVE_REPLY_CHAIN, NAIVE_TABLE, editableRules, renderNaiveReplace, renderNaiveTable, scenario, withRuleEdited, type Scenario } from './firewall-rules.js';
import { percentile, timed } from './stats.js';

const WARMUP = 3;

export interface ChangeSamples {
  total: number[];
  /** compilePolicies */
  compile: number[];
  /** the process's CPU time (user + system, GC threads included) during compilePolicies: what contention cannot inflate */
  compileCpu: number[];
  /** diffPolicyTable (weft) or renderPolicyTable (whole table) */
  build: number[];
  nft: number[];
  docBytes: number[];
}

export interface FirewallChangeResult {
  rules: number;
  policies: number;
  blocks: number;
  elements: number;
  /** the first whole-table load: compile + render + nft */
  firstLoad: { compile: number; render: number; nft: number; docBytes: number };
  weft: ChangeSamples;
  /** commands in a weft diff document (the first measured one) */
  diffCommands: string[];
  whole: ChangeSamples;
  naive: { loadMs: number; nftRules: number; docBytes: number; change: number[] };
}

const empty = (): ChangeSamples => ({ total: [], compile: [], compileCpu: [], build: [], nft: [], docBytes: [] });

/** compilePolicies, timed by the wall clock and by the process's CPU time. */
async function compileTimed(policies: PlanFirewallPolicy[], s: Scenario, cache?: CompileCache): Promise<{ ms: number; cpuMs: number; value: PolicyModel }> {
  const cpu0 = process.cpuUsage();
  const compiled = await timed(() => compilePolicies(policies, s.sets, cache));
  const cpu = process.cpuUsage(cpu0);
  return { ...compiled, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The k-th rule to edit: a stride through the editable positions (distinct for every k of a run). */
function pick(editable: readonly number[], k: number): number {
  return editable[(k * 7919) % editable.length]!;
}

function commandsOf(doc: NftDocument): string[] {
  return doc.nftables.filter((c) => !('metainfo' in c)).map((c) => `${Object.keys(c)[0]} ${Object.keys(Object.values(c)[0] as object)[0]}`);
}

/** One change the agent's way: compile (with the previous compile's packings), diff, apply. */
async function changeByDiff(
  lab: FirewallLab,
  current: PolicyModel,
  policies: PlanFirewallPolicy[],
  s: Scenario,
  cache: CompileCache,
  into: ChangeSamples | undefined,
): Promise<{ model: PolicyModel; doc: NftDocument | undefined }> {
  const t0 = process.hrtime.bigint();
  const compiled = await compileTimed(policies, s, cache);
  const diffed = await timed(() => diffPolicyTable(current, compiled.value));
  const doc = diffed.value;
  const applied = await timed(() => (doc ? lab.nft.apply(doc) : Promise.resolve()));
  const total = Number(process.hrtime.bigint() - t0) / 1e6;
  if (into) {
    into.total.push(total);
    into.compile.push(compiled.ms);
    into.compileCpu.push(compiled.cpuMs);
    into.build.push(diffed.ms);
    into.nft.push(applied.ms);
    into.docBytes.push(doc ? JSON.stringify(doc).length : 0);
  }
  return { model: compiled.value, doc };
}

/** One change the naive way: compile, render the whole table, load it. */
async function changeByReload(lab: FirewallLab, policies: PlanFirewallPolicy[], s: Scenario, into: ChangeSamples): Promise<PolicyModel> {
  const t0 = process.hrtime.bigint();
  const compiled = await compileTimed(policies, s);
  const rendered = await timed(() => renderPolicyTable(compiled.value));
  const applied = await timed(() => lab.nft.apply(rendered.value));
  into.total.push(Number(process.hrtime.bigint() - t0) / 1e6);
  into.compile.push(compiled.ms);
  into.compileCpu.push(compiled.cpuMs);
  into.build.push(rendered.ms);
  into.nft.push(applied.ms);
  into.docBytes.push(JSON.stringify(rendered.value).length);
  return compiled.value;
}

/** Handles of each chain's rules, in chain order. */
async function handles(lab: FirewallLab): Promise<Map<string, number[]>> {
  const byChain = new Map<string, number[]>();
  for (const o of ((await lab.nft.list(NAIVE_TABLE)) ?? []).filter(isRuleObject)) {
    const list = byChain.get(o.rule.chain);
    if (list) list.push(o.rule.handle!);
    else byChain.set(o.rule.chain, [o.rule.handle!]);
  }
  return byChain;
}

/**
 * @param changes one-rule changes measured the agent's way
 * @param reloads the same through a whole-table reload (about a second each)
 * @param replaces the same in the naive chain (seconds each at 20,000 nft rules)
 */
export async function benchFirewallChange(lab: FirewallLab, rules: number, changes: number, reloads: number, replaces: number): Promise<FirewallChangeResult> {
  const s = scenario(rules);
  const editable = editableRules(s);
  if (WARMUP + changes + reloads > editable.length || replaces > editable.length) throw new Error(`${rules} rules are too few for ${changes} + ${reloads} changes`);

  // the table in force: one whole load, as an agent's first apply
  const cache = new CompileCache();
  const c0 = await timed(() => compilePolicies(s.policies, s.sets, cache));
  const r0 = await timed(() => renderPolicyTable(c0.value));
  const n0 = await timed(() => lab.nft.apply(r0.value));
  let current = c0.value;
  let policies = s.policies;
  const group = [...current.groups.values()][0];
  const result: FirewallChangeResult = {
    rules,
    policies: s.policies.length,
    blocks: group?.maps.length ?? 0,
    elements: [...current.maps.values()].reduce((n, m) => n + m.size, 0),
    firstLoad: { compile: c0.ms, render: r0.ms, nft: n0.ms, docBytes: JSON.stringify(r0.value).length },
    weft: empty(),
    diffCommands: [],
    whole: empty(),
    naive: { loadMs: 0, nftRules: 0, docBytes: 0, change: [] },
  };

  let k = 0;
  for (let i = 0; i < WARMUP + changes; i++, k++) {
    const edited = withRuleEdited(policies, pick(editable, k), k);
    const { model, doc } = await changeByDiff(lab, current, edited.policies, s, cache, i < WARMUP ? undefined : result.weft);
    if (i === WARMUP && doc) result.diffCommands = commandsOf(doc);
    current = model;
    policies = edited.policies;
  }
  for (let i = 0; i < reloads; i++, k++) {
    const edited = withRuleEdited(policies, pick(editable, k), k);
    current = await changeByReload(lab, edited.policies, s, result.whole);
    policies = edited.policies;
  }

  // the linear chain in place of weft's table, from the original rules
  await lab.nft.deleteTable(POLICY_TABLE);
  const naiveDoc = renderNaiveTable(s);
  result.naive.loadMs = (await timed(() => lab.nft.apply(naiveDoc))).ms;
  const byChain = await handles(lab);
  const orig = byChain.get(NAIVE_CHAIN) ?? [];
  const reply = byChain.get(NAIVE_REPLY_CHAIN) ?? [];
  result.naive.nftRules = [...byChain.values()].reduce((n, l) => n + l.length, 0);
  // a replaced rule gets a new handle: every change edits another rule (pick is distinct per k)
  for (let i = 0; i < replaces; i++) {
    const index = pick(editable, i);
    const edited = withRuleEdited(s.policies, index, i);
    const doc = renderNaiveReplace(edited.rule, orig[index]!, reply[index]!);
    const applied = await timed(() => lab.nft.apply(doc));
    result.naive.change.push(applied.ms);
    result.naive.docBytes = JSON.stringify(doc).length;
  }
  await lab.nft.deleteTable(NAIVE_TABLE);
  return result;
}

// ---- printing ---------------------------------------------------------------

const ms = (v: number) => `${v.toFixed(1)} ms`;
const kb = (b: number) => (b < 4096 ? `${b} B` : `${(b / 1024).toFixed(0)} KiB`);
const stat = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] ?? NaN };
};

function printTable(rows: string[][]): void {
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd());
}

export function printFirewallChange(r: FirewallChangeResult, targetMs: number): void {
  const n = r.weft.total.length;
  console.log(
    `\n# firewall: one-rule change on a host holding ${r.rules.toLocaleString('en')} rules ` +
      `(${r.policies} policies, ${r.blocks} blocks, ${r.elements.toLocaleString('en')} map elements), ${n} changes after ${WARMUP} unmeasured`,
  );
  console.log(
    `first whole-table load: compile ${ms(r.firstLoad.compile)}, render ${ms(r.firstLoad.render)}, nft ${ms(r.firstLoad.nft)} (document ${kb(r.firstLoad.docBytes)})`,
  );
  const row = (label: string, w: number[], p: number[]): string[] => {
    const a = stat(w);
    const b = stat(p);
    return [label, ms(a.p50), ms(a.p95), ms(a.max), ms(b.p50), ms(b.p95), ms(b.max), `${(b.p50 / a.p50).toFixed(1)}x`];
  };
  printTable([
    ['one-rule change', 'weft p50', 'weft p95', 'weft max', 'reload p50', 'reload p95', 'reload max', 'speed-up (p50)'],
    row('total', r.weft.total, r.whole.total),
    row('  compile (compilePolicies)', r.weft.compile, r.whole.compile),
    row('  diff / whole render', r.weft.build, r.whole.build),
    row('  nft apply', r.weft.nft, r.whole.nft),
  ]);
  const w = stat(r.weft.total);
  console.log(
    `weft = compile + diffPolicyTable + nft -j -f (element diff: ${r.diffCommands.join(', ')}; document ${kb(stat(r.weft.docBytes).p50)}); ` +
      `reload (peer) = compile + renderPolicyTable + nft of the whole table (document ${kb(stat(r.whole.docBytes).p50)}, ${r.whole.total.length} changes)`,
  );
  console.log(`compilePolicies CPU time (user + system, GC included): p50 ${ms(stat(r.weft.compileCpu).p50)}, p95 ${ms(stat(r.weft.compileCpu).p95)}`);
  console.log(`target: p50 under ${targetMs} ms — ${w.p50 < targetMs ? 'met' : 'NOT met'} (p50 ${ms(w.p50)}, p95 ${ms(w.p95)})`);
  const c = stat(r.naive.change);
  console.log(
    `reference, naive linear chain (${r.naive.nftRules.toLocaleString('en')} nft rules, loaded in ${ms(r.naive.loadMs)}): ` +
      `replace one rule and its reply mirror by handle, nft only, ${r.naive.change.length} changes: p50 ${ms(c.p50)}, p95 ${ms(c.p95)}, max ${ms(c.max)} (document ${kb(r.naive.docBytes)}); ` +
      `weft nft apply alone: p50 ${ms(stat(r.weft.nft).p50)}`,
  );
}
