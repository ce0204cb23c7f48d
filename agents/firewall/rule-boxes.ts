// A FirewallPolicy rule as boxes: [peer address, protocol, destination
// port], one element each of an nftables interval map keyed
// `ipv4_addr . inet_proto . inet_service` (model/rule-intervals.ts makes
// them). Cached per rule object, because the agent compiles its whole
// policy list on every plan change.
import type { PlanFirewallRule } from '../../model/agent-protocol.js';
import { ruleBoxes } from '../../model/rule-intervals.js';
import type { PolicyBox } from '../datapath/policy-model.js';

interface CachedBoxes {
  /** the address lists the boxes were made from, by identity (plans replace a set's list when it changes) */
  lists: ReadonlyArray<readonly string[] | undefined>;
  boxes: PolicyBox[];
}

// A plan update replaces only the rules and sets it changes; every other rule
// object (and set list) is the same object as before, so its boxes are too.
const boxCache = new WeakMap<PlanFirewallRule, CachedBoxes>();

export function policyRuleBoxes(rule: PlanFirewallRule, sets: ReadonlyMap<string, readonly string[]>): PolicyBox[] {
  const lists = (rule.peers ?? []).flatMap((p) => ('set' in p ? [sets.get(p.set)] : []));
  const cached = boxCache.get(rule);
  if (cached && cached.lists.length === lists.length && cached.lists.every((l, i) => l === lists[i])) return cached.boxes;
  const boxes = ruleBoxes([rule.peers], rule, sets);
  boxCache.set(rule, { lists, boxes });
  return boxes;
}
