// The host's firewall policies (as the controller planned them) -> a model of
// the nftables objects that enforce them. Pure; agents/datapath/nft/policy-ruleset.ts turns the
// model into nft JSON and diffs two models.
//
// Endpoints with the same policies in the same order share one "group" per
// direction: a chain whose rules look the packet up in the group's block maps
// (model/box-packer.ts) in order, then apply the default action. Two entry maps
// send a packet to the group chain of its endpoint: by destination address
// for ingress, by source address for egress. The group's name is a hash of
// its policy list, so editing a policy's rules changes map elements, and a
// label change changes entry elements or address-set elements, never chains.
import type { PlanFirewallPolicy, PlanFirewallRule } from '../../model/agent-protocol.js';
import { boxKey, Packing, type PackItem } from '../../model/box-packer.js';
import type { DefaultAction } from '../../model/firewall.js';
import { createHash } from 'node:crypto';
import { REJECT_CHAIN, emptyModel, type Direction, type GroupChain, type LogChain, type MapElement, type PolicyBox, type PolicyModel, type RuleRef, type Verdict } from '../datapath/policy-model.js';
import { policyRuleBoxes } from './rule-boxes.js';

const LOG_PREFIX = 'wl-';

// Chain and map names are hashes of what they stand for: 64 bits of SHA-256,
// so two rules (or two policy lists) sharing a name is out of reach even for
// someone choosing names to collide; sharing one would give one rule the
// other's verdict. The compiler still checks and refuses a collision.
function hash64(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export function logChainName(ref: RuleRef): string {
  return `${LOG_PREFIX}${hash64(`${ref.policy}\u0000${ref.direction}\u0000${ref.rule}`)}`;
}

function groupName(direction: Direction, policies: readonly string[]): string {
  const short = direction === 'ingress' ? 'in' : 'eg';
  return `g-${hash64(`${direction}\u0000${policies.join('\u0000')}`)}-${short}`;
}

function collision(what: string, name: string, a: string, b: string): Error {
  return new Error(`${what} ${name} would stand for both ${a} and ${b}; rename one of them`);
}

function verdictOf(rule: PlanFirewallRule, ref: RuleRef, logChains: Map<string, LogChain>): Verdict {
  if (rule.action === 'log' || rule.log === true) {
    const name = logChainName(ref);
    logChains.set(name, { name, ref, action: rule.action });
    // A log rule logs and comes back for the next lookup (jump); a final rule that also logs
    // decides in the log chain, whose `return` must leave the group chain too (goto).
    return { kind: rule.action === 'log' ? 'jump' : 'goto', target: name };
  }
  switch (rule.action) {
    case 'allow':
      // Not accept: the packet still has the other endpoint's ingress (or egress) to pass.
      return { kind: 'return' };
    case 'deny':
      return { kind: 'drop' };
    default:
      return { kind: 'jump', target: REJECT_CHAIN };
  }
}

/** A group's packing and the block maps made from it, kept for the next compile. */
interface GroupPack {
  packing: Packing<RuleEntry, PolicyBox>;
  /** block maps, by block number: the model shares them, so they are replaced, never changed */
  maps: Map<string, MapElement>[];
}

/**
 * What one compile leaves for the next, so a rule change repacks only its
 * block (model/box-packer.ts): a caller that compiles its host's policies again
 * and again (the agent) keeps one. Group name -> its packing.
 */
export class CompileCache {
  readonly groups = new Map<string, GroupPack>();
}

/**
 * @param policies the host plan's policies
 * @param sets the host plan's address sets, by name
 * @param cache the previous compile's packings, updated to this one's
 */
export function compilePolicies(policies: readonly PlanFirewallPolicy[], sets: ReadonlyMap<string, readonly string[]>, cache?: CompileCache): PolicyModel {
  try {
    const model = compileWith(policies, sets, cache);
    // Groups gone from the host go from the cache too.
    if (cache) for (const name of cache.groups.keys()) if (!model.groups.has(name)) cache.groups.delete(name);
    return model;
  } catch (e: unknown) {
    // Packings may be half edited: the next compile starts afresh.
    cache?.groups.clear();
    throw e;
  }
}

function compileWith(policies: readonly PlanFirewallPolicy[], sets: ReadonlyMap<string, readonly string[]>, cache: CompileCache | undefined): PolicyModel {
  const model = emptyModel();
  const groupLists = new Map<string, string>();
  const ordered = [...policies].sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const direction of ['ingress', 'egress'] as const) {
    // endpoint -> the policies (in order) that have rules for this direction
    const perEndpoint = new Map<string, PlanFirewallPolicy[]>();
    for (const p of ordered) {
      if (p[direction] === undefined) continue;
      for (const ip of sets.get(p.appliesTo) ?? []) {
        const list = perEndpoint.get(ip);
        if (list) list.push(p);
        else perEndpoint.set(ip, [p]);
      }
    }
    for (const [ip, list] of perEndpoint) {
      const name = groupName(
        direction,
        list.map((p) => p.name),
      );
      model.entries[direction].set(ip, name);
      const listKey = list.map((p) => p.name).join(', ');
      const seen = groupLists.get(name);
      if (seen === undefined) {
        groupLists.set(name, listKey);
        buildGroup(model, name, direction, list, sets, cache);
      } else if (seen !== listKey) {
        throw collision('group chain', name, `[${seen}]`, `[${listKey}]`);
      }
    }
  }
  return model;
}

interface RuleEntry {
  policy: string;
  direction: Direction;
  verdict: Verdict;
  ref: RuleRef;
  log?: LogChain;
  /** map element per box of the rule, made once */
  elements: WeakMap<PolicyBox, MapElement>;
}

// Per rule object: what it compiles to apart from its boxes (cached in
// rule-boxes.ts). A plan update replaces only the rules it changes, so a
// one-rule change allocates for one rule, not for all of them.
const ruleEntries = new WeakMap<PlanFirewallRule, RuleEntry>();

function ruleEntry(rule: PlanFirewallRule, policy: string, direction: Direction): RuleEntry {
  const hit = ruleEntries.get(rule);
  if (hit && hit.policy === policy && hit.direction === direction) return hit;
  const ref: RuleRef = { policy, direction, rule: rule.name };
  const logs = new Map<string, LogChain>();
  const entry: RuleEntry = { policy, direction, verdict: verdictOf(rule, ref, logs), ref, elements: new WeakMap() };
  const log = [...logs.values()][0];
  if (log) entry.log = log;
  ruleEntries.set(rule, entry);
  return entry;
}

function elementOf(entry: RuleEntry, box: PolicyBox): MapElement {
  let e = entry.elements.get(box);
  if (!e) {
    e = { box, verdict: entry.verdict, ref: entry.ref };
    entry.elements.set(box, e);
  }
  return e;
}

function buildGroup(
  model: PolicyModel,
  name: string,
  direction: Direction,
  policies: readonly PlanFirewallPolicy[],
  sets: ReadonlyMap<string, readonly string[]>,
  cache: CompileCache | undefined,
): void {
  const items: PackItem<RuleEntry, PolicyBox>[] = [];
  let defaultAction: DefaultAction = 'allow';
  let defaultPolicy: string | undefined;
  for (const p of policies) {
    const dir = p[direction];
    if (dir === undefined) continue;
    for (const rule of dir.rules) {
      const entry = ruleEntry(rule, p.name, direction);
      if (entry.log) {
        const other = model.logChains.get(entry.log.name);
        const same = (r: RuleRef) => r.policy === entry.ref.policy && r.direction === entry.ref.direction && r.rule === entry.ref.rule;
        if (other && !same(other.ref)) throw collision('log chain', entry.log.name, `${other.ref.policy}/${other.ref.rule}`, `${entry.ref.policy}/${entry.ref.rule}`);
        model.logChains.set(entry.log.name, entry.log);
      }
      model.rules.set(`${p.name}\u0000${direction}\u0000${rule.name}`, entry.ref);
      items.push({ boxes: policyRuleBoxes(rule, sets), final: rule.action !== 'log', value: entry });
    }
    if (defaultPolicy === undefined && dir.defaultAction !== undefined) {
      defaultAction = dir.defaultAction;
      defaultPolicy = p.name;
    }
  }
  const pack = packGroup(items, cache?.groups.get(name));
  cache?.groups.set(name, pack);
  const maps = pack.maps.map((elements, i) => {
    const mapName = `${name}-${i}`;
    model.maps.set(mapName, elements);
    return mapName;
  });
  const group: GroupChain = { name, direction, maps, defaultAction };
  if (defaultPolicy !== undefined) group.defaultPolicy = defaultPolicy;
  model.groups.set(name, group);
}

/** The group's packing and block maps: the previous ones edited where only some rules changed, else made afresh. */
function packGroup(items: readonly PackItem<RuleEntry, PolicyBox>[], previous: GroupPack | undefined): GroupPack {
  const edits = previous?.packing.update(items);
  if (previous && edits) {
    const maps = [...previous.maps];
    const copied = new Set<number>();
    for (const { block, removed, added } of edits) {
      if (!copied.has(block)) {
        maps[block] = new Map(maps[block]);
        copied.add(block);
      }
      const elements = maps[block] as Map<string, MapElement>;
      for (const box of removed) elements.delete(boxKey(box));
      for (const { box, value } of added) elements.set(boxKey(box), elementOf(value, box));
    }
    return { packing: previous.packing, maps };
  }
  const packing = Packing.of(items);
  const maps = Array.from({ length: packing.blockCount }, (_, b) => {
    const elements = new Map<string, MapElement>();
    for (const { box, value } of packing.block(b)) elements.set(boxKey(box), elementOf(value, box));
    return elements;
  });
  return { packing, maps };
}
