// Semantic checks of a Firewall (VNF) spec that its JSON Schema cannot say:
// each network guarded once, addresses that are IPv4, and for the rules
// exactly the checks FirewallPolicy rules get (peers, CIDRs, ports, port
// sets, rule names). Those are reused by presenting the perimeter rules to
// checkFirewallPolicySpec twice, once as ingress rules (their `from` peers,
// names, ports, port sets) and once as egress rules (their `to` peers), and
// moving the issues back to the paths the user wrote. How far each rule
// expands is counted here instead: a perimeter rule's elements are sources x
// destinations x ports, which neither half sees. Whether the networks
// exist and the addresses fit their subnets needs the store: the writer
// checks that (controller/resources/vnf-writer.ts).
import type { FieldIssue } from './errors.js';
import { checkFirewallPolicySpec, checkRuleSizes, countPeerPieces, countPortPieces, type RuleSize } from './firewall-validate.js';
import { checkVnfAttachments } from './vnf-validate.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** An issue of the borrowed policy check, with its path (and any path quoted in its message) moved to spec.rules. */
function moved(issue: FieldIssue, from: string, to: string): FieldIssue {
  const out: FieldIssue = { ...issue, path: issue.path.startsWith(from) ? to + issue.path.slice(from.length) : issue.path };
  out.message = issue.message.split(from).join(to).replace(/ in (ingress|egress) /, ' in the rules ').replace(/within a direction/, 'within a firewall');
  return out;
}

/** A perimeter rule's elements: every source interval with every destination interval and every port interval. A network peer is its subnet, one interval. */
function perimeterRuleSize(rule: Record<string, unknown>, path: string, portSets: unknown): RuleSize {
  const from = countPeerPieces(rule.from, true);
  const to = countPeerPieces(rule.to, true);
  const ports = countPortPieces(rule, portSets);
  return {
    path,
    elements: from.pieces * to.pieces * ports,
    factors: `${from.pieces} source ranges x ${to.pieces} destination ranges x ${ports} ports or port ranges`,
    endpointPeers: from.endpointPeers || to.endpointPeers,
  };
}

/** Semantic checks on a Firewall spec; `base` is the pointer of the spec in its document. */
export function checkFirewallSpec(spec: unknown, base = '/spec'): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!isObject(spec)) return issues;
  checkVnfAttachments(spec.networks, `${base}/networks`, 'firewall', issues);
  const rules = Array.isArray(spec.rules) ? (spec.rules as unknown[]) : [];
  const rulesPath = `${base}/rules`;
  const asIngress: Record<string, unknown> = { ingress: { rules: rules.map((r) => (isObject(r) ? { ...r, to: undefined } : r)) } };
  if (spec.portSets !== undefined) asIngress.portSets = spec.portSets;
  for (const issue of checkFirewallPolicySpec(asIngress, base, { sizes: false })) issues.push(moved(issue, `${base}/ingress/rules`, rulesPath));
  // Only the `to` peers: names and ports were checked above.
  const asEgress = { egress: { rules: rules.map((r) => (isObject(r) && r.to !== undefined ? { action: r.action, to: r.to } : {})) } };
  const toPeer = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/egress/rules/\\d+/to(/|$)`);
  for (const issue of checkFirewallPolicySpec(asEgress, base, { sizes: false })) {
    if (toPeer.test(issue.path)) issues.push(moved(issue, `${base}/egress/rules`, rulesPath));
  }
  const sizes = rules.flatMap((r, i) => (isObject(r) ? [perimeterRuleSize(r, `${rulesPath}/${i}`, spec.portSets)] : []));
  checkRuleSizes(sizes, 'firewall', undefined, issues);
  return issues;
}
