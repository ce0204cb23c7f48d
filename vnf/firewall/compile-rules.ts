// A planned Firewall VNF's rules -> a model of the nftables objects that
// enforce them: interval verdict maps (blocks, looked up in order), one log
// chain per logging rule, and the default action. Pure; render-table.ts
// turns the model into an nft document.
import { packBlocks, type PackItem } from '../../model/box-packer.js';
import type { DefaultAction, FirewallAction } from '../../model/firewall.js';
import type { PlanFirewallSpec, PlanPerimeterRule } from '../../model/firewall-vnf.js';
import { ruleBoxes, type RuleBox } from '../../model/rule-intervals.js';

/**
 * [source, destination, protocol, destination port]: one element of an
 * interval map keyed `ipv4_addr . ipv4_addr . inet_proto . inet_service`.
 */
type Box = RuleBox<[PlanPerimeterRule['from'], PlanPerimeterRule['to']]>;

export type Verdict = { kind: 'accept' } | { kind: 'drop' } | { kind: 'jump' | 'goto'; target: string };

export interface MapElement {
  box: Box;
  verdict: Verdict;
  /** the rule it counts for */
  rule: string;
}

export interface BlockMap {
  name: string;
  elements: MapElement[];
}

export interface LogChain {
  name: string;
  rule: string;
  action: FirewallAction;
}

export interface FirewallModel {
  /** looked up in this order */
  maps: BlockMap[];
  logChains: LogChain[];
  defaultAction: DefaultAction;
  /** every rule name, in rule order (counters are reported in this order, then "default") */
  rules: string[];
}

export const REJECT_CHAIN = 'reject';
const LOG_CHAIN_PREFIX = 'log-';
const BLOCK_MAP_PREFIX = 'b-';

export function logChainName(rule: string): string {
  return `${LOG_CHAIN_PREFIX}${rule}`;
}

function verdictOf(rule: PlanPerimeterRule, logChains: LogChain[]): Verdict {
  if (rule.action === 'log' || rule.log === true) {
    const name = logChainName(rule.name);
    logChains.push({ name, rule: rule.name, action: rule.action });
    // A log rule logs and comes back for the next lookup (jump); a final rule that also logs decides in its log chain (goto).
    return { kind: rule.action === 'log' ? 'jump' : 'goto', target: name };
  }
  switch (rule.action) {
    case 'allow':
      return { kind: 'accept' };
    case 'deny':
      return { kind: 'drop' };
    default:
      return { kind: 'jump', target: REJECT_CHAIN };
  }
}

export function compileFirewallRules(fw: PlanFirewallSpec): FirewallModel {
  const sets = new Map(fw.addressSets.map((s) => [s.name, s.addresses]));
  const logChains: LogChain[] = [];
  const items: PackItem<{ verdict: Verdict; rule: string }, Box>[] = fw.rules.map((rule) => ({
    boxes: ruleBoxes([rule.from, rule.to], rule, sets),
    final: rule.action !== 'log',
    value: { verdict: verdictOf(rule, logChains), rule: rule.name },
  }));
  const maps = packBlocks(items).map(
    (block, i): BlockMap => ({
      name: `${BLOCK_MAP_PREFIX}${i}`,
      elements: block.map(({ box, value }) => ({ box, verdict: value.verdict, rule: value.rule })),
    }),
  );
  return { maps, logChains, defaultAction: fw.defaultAction, rules: fw.rules.map((r) => r.name) };
}
