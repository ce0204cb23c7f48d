// The firewall benchmarks (`npm run bench`, skip with WEFT_BENCH_SKIP=firewall):
// a one-rule change on a host holding 10,000 rules (firewall-change.ts) and
// throughput with 0 / 1,000 / 10,000 rules in force (firewall-throughput.ts),
// each beside its peer, in one lab (firewall-lab.ts) that is removed after,
// also on failure. Bounded: about two minutes on 2 vCPUs.
import { benchFirewallChange, printFirewallChange } from './firewall-change.js';
import { startFirewallLab, stopFirewallLabNow } from './firewall-lab.js';
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

export async function benchFirewall(): Promise<void> {
  const lab = await startFirewallLab();
  try {
    printFirewallChange(await benchFirewallChange(lab, RULES, CHANGES, RELOADS, REPLACES), 50);
    printFirewallThroughput(await benchFirewallThroughput(lab, SIZES, ROUNDS, SECONDS, OMIT), 0.9);
  } finally {
    stopFirewallLabNow();
  }
}

export { stopFirewallLabNow };
