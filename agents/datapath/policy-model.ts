// The vocabulary of the agent's FirewallPolicy table port
// (policy-table-port.ts): the model of the nftables objects that enforce the
// host's policies (agents/firewall/policy-compiler.ts makes it; the nft
// implementation renders and diffs it), and the counters read back, keyed
// so a change can say which it throws away. Pure.
import { boxKey } from '../../model/box-packer.js';
import type { DefaultAction, FirewallAction } from '../../model/firewall.js';
import type { PlanFirewallRule } from '../../model/agent-protocol.js';
import type { RuleBox } from '../../model/rule-intervals.js';

/** [peer address, protocol, destination port] */
export type PolicyBox = RuleBox<[PlanFirewallRule['peers']]>;

export type Direction = 'ingress' | 'egress';

export type Verdict = { kind: 'return' } | { kind: 'drop' } | { kind: 'jump' | 'goto'; target: string };

/** Which rule an element or chain rule counts for. */
export interface RuleRef {
  policy: string;
  direction: Direction;
  /** rule name, or "default" */
  rule: string;
}

export interface MapElement {
  box: PolicyBox;
  verdict: Verdict;
  ref: RuleRef;
}

export interface GroupChain {
  name: string;
  direction: Direction;
  /** block map names, looked up in this order */
  maps: string[];
  defaultAction: DefaultAction;
  /** the policy whose default action applies; undefined when none sets one (allow) */
  defaultPolicy?: string;
}

export interface LogChain {
  name: string;
  ref: RuleRef;
  action: FirewallAction;
}

export interface PolicyModel {
  /** endpoint IPv4 -> group chain name, per direction */
  entries: Record<Direction, Map<string, string>>;
  groups: Map<string, GroupChain>;
  /** map name -> element key (boxKey) -> element */
  maps: Map<string, Map<string, MapElement>>;
  logChains: Map<string, LogChain>;
  /** every rule of the policies in force, also those that hold no element (a peer set now empty) */
  rules: Map<string, RuleRef>;
}

export const REJECT_CHAIN = 'reject';

export function emptyModel(): PolicyModel {
  return { entries: { ingress: new Map(), egress: new Map() }, groups: new Map(), maps: new Map(), logChains: new Map(), rules: new Map() };
}

/** A group chain's reply-direction twin. */
export function replyChain(group: string): string {
  return `${group}-r`;
}

export interface CounterReading {
  ref: RuleRef;
  packets: number;
  bytes: number;
}

/** One counter in the table: a block-map element, or a group chain's default rule. */
export interface ElementCounter extends CounterReading {
  /** `map NUL boxKey` for elements, `chain NUL default` for default rules */
  key: string;
}

export function elementCounterKey(map: string, box: PolicyBox): string {
  return `${map}\u0000${boxKey(box)}`;
}

export function defaultCounterKey(chain: string): string {
  return `${chain}\u0000default`;
}

export const ruleKey = (ref: RuleRef): string => `${ref.policy}\u0000${ref.direction}\u0000${ref.rule}`;

/** Every rule of the model, with zeros: a rule that matched nothing yet is still listed. */
export function modelRules(model: PolicyModel): RuleRef[] {
  const refs = new Map<string, RuleRef>();
  for (const ref of model.rules.values()) refs.set(ruleKey(ref), ref);
  for (const g of model.groups.values()) {
    if (g.defaultPolicy !== undefined) {
      const ref: RuleRef = { policy: g.defaultPolicy, direction: g.direction, rule: 'default' };
      refs.set(ruleKey(ref), ref);
    }
  }
  return [...refs.values()];
}

export function sameVerdict(a: Verdict, b: Verdict): boolean {
  return a.kind === b.kind && ('target' in a ? a.target : '') === ('target' in b ? b.target : '');
}

export function sameGroup(a: GroupChain, b: GroupChain): boolean {
  return a.defaultAction === b.defaultAction && a.defaultPolicy === b.defaultPolicy && a.maps.length === b.maps.length && a.maps.every((m, i) => m === b.maps[i]);
}

/**
 * The counters a change from `from` to `to` throws away: elements deleted
 * (or re-added with another verdict) and default rules of group chains that
 * are flushed or deleted. The enforcer carries what it last read of them.
 */
export function countersDropped(from: PolicyModel, to: PolicyModel): string[] {
  const keys: string[] = [];
  for (const [name, elements] of from.maps) {
    const next = to.maps.get(name);
    if (next === elements) continue;
    for (const [k, e] of elements) {
      const n = next?.get(k);
      if (!n || !sameVerdict(n.verdict, e.verdict)) keys.push(elementCounterKey(name, e.box));
    }
  }
  for (const [name, g] of from.groups) {
    const next = to.groups.get(name);
    if (!next || !sameGroup(g, next)) keys.push(defaultCounterKey(name), defaultCounterKey(replyChain(name)));
  }
  return keys;
}

/** True when a listing holds weft's policy table with its forward chain (something to adopt). */
