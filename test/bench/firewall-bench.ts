// The firewall benchmarks (`npm run bench`, skip with WEFT_BENCH_SKIP=firewall):
// a one-rule change on a host holding 10,000 rules (firewall-change.ts) and
// throughput with 0 / 1,000 / 10,000 rules in force (firewall-throughput.ts),
// each beside its peer, in one lab (firewall-lab.ts) that is removed after,
// also on failure. Bounded: about two minutes on 2 vCPUs.
// Then (skip with WEFT_BENCH_SKIP=firewall-e2e) the same one-rule change end
// to end, PUT to kernel and to Ready, through a controller and an agent
// (firewall-e2e.ts, its own lab), beside the agent's own figure: under a
// minute more.
import { benchFirewallChange, printFirewallChange } from './firewall-change.js';
import { benchFirewallE2e, printFirewallE2e, stopFirewallE2eNow } from './firewall-e2e.js';
import { startFirewallLab, stopFirewallLabNow as stopLab } from './firewall-lab.js';
import { benchFirewallThroughput, printFirewallThroughput } from './firewall-throughput.js';

const RULES = 10_000;
const CHANGES = 50;
/** whole-table reloads cost about a second each: fewer of them */
const RELOADS = 5;
/** a naive replace costs seconds at 20,000 nft rules (measured; nft fills its cache with the table first) */
const REPLACES = 5;
const SIZES = [0, 1_000, RULES];
const ROUNDS = 3;
const SECONDS = 3;
/** veth slow start takes milliseconds: nothing to omit, and 15 s saved */
const OMIT = 0;
const E2E_CHANGES = 20;

/** @returns the agent-only totals of a one-rule change (compile + diff + nft), ms */
export async function benchFirewall(): Promise<number[]> {
  const lab = await startFirewallLab();
  try {
    const change = await benchFirewallChange(lab, RULES, CHANGES, RELOADS, REPLACES);
    printFirewallChange(change, 50);
    printFirewallThroughput(await benchFirewallThroughput(lab, SIZES, ROUNDS, SECONDS, OMIT), 0.9);
    return change.weft.total;
  } finally {
    stopLab();
  }
}

/** @param agentOnly benchFirewall's figure, printed beside (undefined: it was skipped) */
export async function benchFirewallEndToEnd(agentOnly: number[] | undefined): Promise<void> {
  printFirewallE2e(await benchFirewallE2e(RULES, E2E_CHANGES), agentOnly);
}

/** Both labs down, synchronously (a signal handler). */
export function stopFirewallLabNow(): void {
  stopLab();
  stopFirewallE2eNow();
}
