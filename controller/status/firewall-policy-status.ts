// A FirewallPolicy's status, computed at read time like a Network's (a
// stored status is not shown): which hosts enforce it (those with an
// endpoint it applies to; Gone hosts are left out) and at which generation,
// what their agents last reported (readiness, rule counters), and one
// Ready condition. Pure: StatusView gathers the inputs (store snapshot,
// live agent reports) and serves GET /api/v1/firewallpolicies.
import type { FirewallPolicyReport } from '../../model/agent-protocol.js';
import type { FirewallPolicy, FirewallPolicyStatus, RuleCounter } from '../../model/firewall.js';
import type { Condition } from '../../model/meta.js';
import type { LiveHost } from '../hosts/live-hosts.js';

type PerHost = NonNullable<FirewallPolicyStatus['hosts']>[string];

/** A host that must enforce the policy: it has endpoints the policy applies to, and is not Gone. */
export interface PolicyCarrier {
  host: string;
  /** this host's endpoints the policy applies to, as planned */
  endpoints: number;
  live: LiveHost | undefined;
  /** the applied revision stored in the Host's status, for a host whose agent has not connected to this controller */
  persistedRevision?: number;
}

/** How many hosts a condition message names before "and N more". */
const SHOWN_HOSTS = 5;
const DIRECTIONS = ['ingress', 'egress'] as const;

function readyCondition(status: Condition['status'], reason: string, message: string, at: number | string | undefined): Condition {
  const time = typeof at === 'string' ? at : new Date(at ?? Date.now()).toISOString();
  return { type: 'Ready', status, reason, message, lastTransitionTime: time };
}

/**
 * One host's line: ready when its agent is connected, has applied every
 * plan it was sent, and reports the policy ready at the current
 * generation. The report is returned for counters and observedGeneration
 * even when the agent is disconnected (its data plane runs on).
 */
function hostEntry(policy: FirewallPolicy, c: PolicyCarrier): { entry: PerHost; report: FirewallPolicyReport | undefined } {
  const generation = policy.metadata.generation ?? 1;
  const live = c.live;
  const revision = live?.appliedRevision ?? c.persistedRevision ?? 0;
  const report = live?.firewall?.[policy.metadata.name];
  if (!live?.connected) return { entry: { ready: false, revision, endpoints: c.endpoints, message: 'agent not connected' }, report };
  const lagging = live.sentRevision !== undefined && revision < live.sentRevision;
  const current = report !== undefined && report.generation === generation;
  const entry: PerHost = { ready: current && report.ready && !lagging, revision, endpoints: report?.endpoints ?? c.endpoints };
  let message: string | undefined;
  if (!report) {
    message = live.firewall === undefined ? 'the agent reports no firewall status (is it older than FirewallPolicy?)' : 'waiting for the agent to report this policy';
  } else if (lagging) message = `applying revision ${live.sentRevision}`;
  else if (!current) message = `enforcing generation ${report.generation}; generation ${generation} not applied yet`;
  else message = report.message ?? (report.ready ? undefined : 'not ready');
  if (message !== undefined) entry.message = message;
  return { entry, report };
}

/** Summed counters per direction, by rule name. */
type Sums = Record<(typeof DIRECTIONS)[number], Map<string, RuleCounter>>;

/**
 * Counters in rule order: per direction, the policy's rules as written, its
 * default, then names the policy no longer has. (Runs on every read of a
 * policy, with a counter per rule: no per-rule allocation beyond the output.)
 */
function orderCounters(policy: FirewallPolicy, sums: Sums): RuleCounter[] {
  const out: RuleCounter[] = [];
  for (const direction of DIRECTIONS) {
    const byRule = sums[direction];
    if (byRule.size === 0) continue;
    const rules = policy.spec[direction]?.rules ?? [];
    const taken = new Set<string>();
    const take = (rule: string) => {
      const c = byRule.get(rule);
      if (c && !taken.has(rule)) {
        out.push(c);
        taken.add(rule);
      }
    };
    for (let i = 0; i < rules.length; i++) take((rules[i] as { name?: string }).name ?? String(i));
    take('default');
    if (taken.size === byRule.size) continue;
    const rest = [...byRule.values()].filter((c) => !taken.has(c.rule)).sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
    out.push(...rest);
  }
  return out;
}

/**
 * The status of one policy. `endpoints`: every endpoint it applies to, on
 * any host. observedGeneration: the oldest generation a carrying host
 * reports enforcing (so it equals metadata.generation exactly when every
 * one has caught up), the current one when no host carries the policy, and
 * none while a carrying host has not reported it. Counters: summed over
 * the carrying hosts' last reports, per direction and rule.
 */
export function firewallPolicyStatus(policy: FirewallPolicy, carriers: readonly PolicyCarrier[], endpoints: number): FirewallPolicyStatus {
  const generation = policy.metadata.generation ?? 1;
  const hosts: Record<string, PerHost> = {};
  const sums: Sums = { ingress: new Map(), egress: new Map() };
  let oldest: number | undefined = generation;
  let latest: number | undefined;
  for (const c of [...carriers].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))) {
    const { entry, report } = hostEntry(policy, c);
    hosts[c.host] = entry;
    if (c.live?.statusAt !== undefined) latest = Math.max(latest ?? 0, c.live.statusAt);
    if (!report) {
      oldest = undefined;
      continue;
    }
    if (oldest !== undefined) oldest = Math.min(oldest, report.generation);
    for (const k of report.counters) {
      const byRule = k.direction === 'ingress' ? sums.ingress : k.direction === 'egress' ? sums.egress : undefined;
      if (!byRule) continue; // not a direction of a policy: never shown
      const sum = byRule.get(k.rule);
      if (sum) {
        sum.packets += k.packets;
        sum.bytes += k.bytes;
      } else {
        byRule.set(k.rule, { direction: k.direction, rule: k.rule, packets: k.packets, bytes: k.bytes });
      }
    }
  }
  const names = Object.keys(hosts);
  const notReady = names.filter((h) => !(hosts[h] as PerHost).ready);
  const at = latest ?? policy.metadata.creationTimestamp;
  let condition: Condition;
  if (names.length === 0) {
    condition = readyCondition('True', 'NoEndpoints', 'applies to no endpoint yet: there is nothing to enforce', at);
  } else if (notReady.length === 0) {
    const eps = `${endpoints} endpoint${endpoints === 1 ? '' : 's'}`;
    condition = readyCondition('True', 'Ready', `generation ${generation} enforced on ${names.length} host${names.length === 1 ? '' : 's'} (${eps})`, at);
  } else {
    const shown = notReady.slice(0, SHOWN_HOSTS).map((h) => `"${h}" (${(hosts[h] as PerHost).message ?? 'not ready'})`);
    const more = notReady.length > SHOWN_HOSTS ? ` (and ${notReady.length - SHOWN_HOSTS} more)` : '';
    condition = readyCondition('False', 'HostsNotReady', `not enforced on ${shown.join(', ')}${more}`, at);
  }
  const status: FirewallPolicyStatus = { endpoints, hosts, counters: orderCounters(policy, sums) };
  if (oldest !== undefined) status.observedGeneration = oldest;
  status.conditions = [condition];
  return status;
}
