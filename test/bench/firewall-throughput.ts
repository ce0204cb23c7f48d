// Benchmark: TCP throughput between two workloads on one bridge with a
// firewall table in force, the flow allowed by the LAST of 0, 1,000 and
// 10,000 ingress rules of the destination workload (so every packet, replies
// too, goes through the entry and block lookups). weft's table beside the
// naive linear chain of the same meaning (firewall-rules.ts), each loaded in
// place of the other. Median of ROUNDS iperf3 runs per table, one stream.
// weft's sizes take turns round by round (its loads take a second at most),
// so drift in the machine's load spreads over all of them; the naive tables,
// whose 10,000-rule load takes seconds, are measured one after the other.
//
// After the last round the counters are read back: the last rule must have
// counted the flow, or the figure would be of a table the packets skipped.
import { compilePolicies } from '../../agents/firewall/policy-compiler.js';
import { POLICY_TABLE, readPolicyCounters, renderPolicyTable } from '../../agents/datapath/nft/policy-ruleset.js';
import { isRuleObject } from '../../model/nft-json.js';
import { iperf, type FirewallLab } from './firewall-lab.js';
import { LAST_RULE, NAIVE_CHAIN, NAIVE_REPLY_CHAIN, NAIVE_TABLE, renderNaiveTable, scenario } from './firewall-rules.js';
import { timed } from './stats.js';

export interface ThroughputRow {
  rules: number;
  /** bits/s of each round */
  rounds: number[];
  median: number;
  loadMs: number;
  /** packets the last rule counted (weft: its map element, both directions; naive: its two chain rules) */
  lastRulePackets: number;
}

export interface FirewallThroughputResult {
  seconds: number;
  omit: number;
  rounds: number;
  weft: ThroughputRow[];
  naive: ThroughputRow[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function row(rules: number, bps: number[], loadMs: number, lastRulePackets: number): ThroughputRow {
  if (rules > 0 && lastRulePackets === 0) throw new Error(`${rules} rules: the last rule counted no packet; the flow did not go through the table`);
  return { rules, rounds: bps, median: median(bps), loadMs, lastRulePackets };
}

async function measure(lab: FirewallLab, rules: number, loadMs: number, rounds: number, seconds: number, omit: number, counted: () => Promise<number>): Promise<ThroughputRow> {
  const bps: number[] = [];
  for (let i = 0; i < rounds; i++) bps.push(await iperf(lab, seconds, omit));
  return row(rules, bps, loadMs, await counted());
}

/** weft's table at each size in turn, round after round; each load is a whole-table render (counters start at 0). */
async function weftRows(lab: FirewallLab, sizes: number[], rounds: number, seconds: number, omit: number): Promise<ThroughputRow[]> {
  const tables = sizes.map((n) => {
    const s = scenario(n);
    const model = compilePolicies(s.policies, s.sets);
    return { n, model, doc: renderPolicyTable(model), bps: [] as number[], loadMs: 0, packets: 0 };
  });
  for (let r = 0; r < rounds; r++) {
    for (const t of tables) {
      const load = await timed(() => lab.nft.apply(t.doc));
      if (r === 0) t.loadMs = load.ms;
      t.bps.push(await iperf(lab, seconds, omit));
      if (r === rounds - 1 && t.n > 0) {
        const counters = readPolicyCounters((await lab.nft.list(POLICY_TABLE)) ?? [], t.model);
        t.packets = counters.filter((c) => c.ref.rule === LAST_RULE).reduce((n, c) => n + c.packets, 0);
      }
    }
  }
  return tables.map((t) => row(t.n, t.bps, t.loadMs, t.packets));
}

async function naiveRow(lab: FirewallLab, rules: number, rounds: number, seconds: number, omit: number): Promise<ThroughputRow> {
  const load = await timed(() => lab.nft.apply(renderNaiveTable(scenario(rules))));
  return measure(lab, rules, load.ms, rounds, seconds, omit, async () => {
    const listing = ((await lab.nft.list(NAIVE_TABLE)) ?? []).filter(isRuleObject);
    let packets = 0;
    for (const chain of [NAIVE_CHAIN, NAIVE_REPLY_CHAIN]) {
      const chainRules = listing.filter((o) => o.rule.chain === chain);
      // the last firewall rule sits just before the default drop
      const last = chainRules[chainRules.length - 2];
      for (const st of last?.rule.expr ?? []) if ('counter' in st && typeof st.counter === 'object' && st.counter !== null) packets += st.counter.packets;
    }
    return packets;
  });
}

export async function benchFirewallThroughput(lab: FirewallLab, sizes: number[], rounds: number, seconds: number, omit: number): Promise<FirewallThroughputResult> {
  await lab.nft.deleteTable(POLICY_TABLE);
  await lab.nft.deleteTable(NAIVE_TABLE);
  const weft = await weftRows(lab, sizes, rounds, seconds, omit);
  await lab.nft.deleteTable(POLICY_TABLE);
  const naive: ThroughputRow[] = [];
  for (const n of sizes.filter((x) => x > 0)) naive.push(await naiveRow(lab, n, rounds, seconds, omit));
  await lab.nft.deleteTable(NAIVE_TABLE);
  return { seconds, omit, rounds, weft, naive };
}

const gbit = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;

export function printFirewallThroughput(r: FirewallThroughputResult, targetRatio: number): void {
  const base = r.weft.find((w) => w.rules === 0) ?? r.weft[0]!;
  console.log(
    `\n# firewall: TCP throughput between two workloads on one bridge (br_netfilter), the flow allowed by the LAST rule; ` +
      `iperf3 -P 1 -t ${r.seconds}${r.omit > 0 ? ` -O ${r.omit}` : ''}, median of ${r.rounds} rounds`,
  );
  const rows: string[][] = [['rules', 'weft', 'weft / 0 rules', 'naive chain (peer)', 'naive / 0 rules', 'weft / naive', 'load weft', 'load naive']];
  for (const w of r.weft) {
    const n = r.naive.find((x) => x.rules === w.rules);
    rows.push([
      w.rules.toLocaleString('en'),
      gbit(w.median),
      `${((100 * w.median) / base.median).toFixed(0)}%`,
      n ? gbit(n.median) : 'n/a',
      n ? `${((100 * n.median) / base.median).toFixed(0)}%` : 'n/a',
      n ? `${(w.median / n.median).toFixed(2)}x` : 'n/a',
      `${(w.loadMs / 1000).toFixed(2)} s`,
      n ? `${(n.loadMs / 1000).toFixed(2)} s` : 'n/a',
    ]);
  }
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd());
  const rounds = (rs: ThroughputRow[]) => rs.map((x) => `${x.rules}: ${x.rounds.map((b) => (b / 1e9).toFixed(2)).join('/')}`).join('; ');
  console.log(`rounds (Gbit/s) weft ${rounds(r.weft)}; naive ${rounds(r.naive)}`);
  const counted = (rs: ThroughputRow[]) => rs.filter((x) => x.rules > 0).map((x) => `${x.rules}: ${x.lastRulePackets}`).join('; ');
  console.log(`packets the last rule counted (weft: last round; naive: all rounds): weft ${counted(r.weft)}; naive ${counted(r.naive)}`);
  const top = r.weft[r.weft.length - 1];
  if (top && top.rules > 0) {
    const ratio = top.median / base.median;
    console.log(`target at ${top.rules.toLocaleString('en')} rules: >= ${(100 * targetRatio).toFixed(0)}% of 0 rules — ${ratio >= targetRatio ? 'met' : 'NOT met'} (${(100 * ratio).toFixed(0)}%)`);
  }
  console.log('(naive chain: one nft rule per firewall rule and a mirrored chain for replies, walked in order for every packet — the meaning of weft\'s table; a chain with a blanket "ct state established accept" first would walk only for first packets)');
}
