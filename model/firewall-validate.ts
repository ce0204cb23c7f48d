// Semantic checks of a FirewallPolicy spec: what its JSON Schema cannot say
// (CIDRs and their exceptions, peer forms, ports and port sets, rule names,
// the size of the whole policy and how far each rule expands on a host).
// Every issue carries the JSON pointer of the field at fault, so `weft apply
// -f` can print FILE:LINE:COL, and a message that says what is wrong and how
// to fix it.
//
// The checks read defensively (typeof before use): the CLI also runs them on
// documents that failed their shape check, to report every problem in one
// pass. A network a rule or appliesTo names need not exist: the policy then
// matches nothing there, which its status reports; it is not an apply error.
import { closestMatch } from './did-you-mean.js';
import type { FieldIssue } from './errors.js';
import type { FirewallPolicySpec } from './firewall.js';
import { formatPrefix4, ipv4ToInt, maskOf, parsePrefix4, prefixContains, type Prefix4 } from './ip.js';

/** Rules of one policy, ingress and egress together: what one host's nft transaction must carry per policy. */
export const MAX_RULES_PER_POLICY = 20_000;
/**
 * Map elements one rule may expand to. Every agent enforcing a rule turns it
 * into (address interval x port interval) elements; a rule of 1,024 /32
 * peers and 1,024 ports is 1,048,576 of them, seconds of compiling and a
 * gigabyte on every host. Rules naming that many addresses and ports one by
 * one are better written with CIDRs and ranges.
 */
export const MAX_ELEMENTS_PER_RULE = 65_536;
/** Map elements of all the rules of one policy (or one Firewall), counted as for MAX_ELEMENTS_PER_RULE. */
export const MAX_ELEMENTS_PER_POLICY = 1_000_000;
const MAX_PORT = 65_535;
/** Protocols whose packets have destination ports. */
const PORT_PROTOCOLS = ['tcp', 'udp'];
const RESERVED_RULE_NAME = 'default';

type Direction = 'ingress' | 'egress';
const DIRECTIONS: Array<{ direction: Direction; peers: 'from' | 'to' }> = [
  { direction: 'ingress', peers: 'from' },
  { direction: 'egress', peers: 'to' },
];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const escapeKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A value for a message, cut short (the same rule as validate.ts's quoteValue, which this module cannot import without a cycle). */
function quote(v: unknown, max = 60): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** A CIDR of a peer or an exception: parsed, or the issue saying why not. */
function checkCidr(text: string, path: string, what: string): { prefix?: Prefix4; issue?: FieldIssue } {
  const parsed = parsePrefix4(text);
  if ('prefix' in parsed) return { prefix: parsed.prefix };
  if (parsed.problem === 'host-bits') {
    const [addr = '', len = ''] = text.split('/');
    const length = Number(len);
    const network = formatPrefix4({ base: (ipv4ToInt(addr) & maskOf(length)) >>> 0, length });
    return {
      issue: {
        path,
        message: `${quote(text)} is not a network address: host bits are set; write ${network} (a ${what} is a CIDR such as 10.0.0.0/24)`,
        value: text,
        allowed: network,
      },
    };
  }
  if (parsed.problem === 'family') {
    return { issue: { path, message: `${quote(text)} is IPv6; a ${what} takes an IPv4 CIDR such as 10.0.0.0/24`, value: text } };
  }
  return { issue: { path, message: `${quote(text)} is not a valid IPv4 CIDR: write an address and a prefix length, e.g. 10.0.0.0/24`, value: text } };
}

/** One peer of a rule at `path` (.../from/N or .../to/N). */
function checkPeer(peer: unknown, path: string, listName: 'from' | 'to', issues: FieldIssue[]): void {
  if (!isObject(peer)) return; // the schema reports it
  const hasEndpoints = peer.selector !== undefined || peer.network !== undefined;
  const hasCidr = peer.cidr !== undefined;
  const hasExcept = peer.except !== undefined;
  if (!hasEndpoints && !hasCidr && !hasExcept) {
    issues.push({
      path,
      message: `an empty peer matches nothing: give selector and/or network (endpoints) or cidr (addresses); to match any ${listName === 'from' ? 'source' : 'destination'}, leave "${listName}" out of the rule`,
      allowed: 'selector, network, cidr, except',
    });
    return;
  }
  if (hasCidr && hasEndpoints) {
    const other = peer.selector !== undefined ? 'selector' : 'network';
    issues.push({
      path: `${path}/cidr`,
      message: `a peer is either endpoints (selector and/or network) or addresses (cidr), not both: move cidr into a peer of its own, or drop ${other}`,
      value: peer.cidr,
    });
  }
  let prefix: Prefix4 | undefined;
  if (typeof peer.cidr === 'string') {
    const c = checkCidr(peer.cidr, `${path}/cidr`, 'peer cidr');
    if (c.issue) issues.push(c.issue);
    prefix = c.prefix;
  }
  if (!hasExcept) return;
  if (!hasCidr) {
    issues.push({
      path: `${path}/except`,
      message: `except needs cidr: it leaves addresses out of the peer's cidr; add cidr (0.0.0.0/0 for every address) or remove except`,
    });
    return;
  }
  if (!Array.isArray(peer.except)) return;
  peer.except.forEach((entry: unknown, k: number) => {
    if (typeof entry !== 'string') return;
    const at = `${path}/except/${k}`;
    const c = checkCidr(entry, at, 'except entry');
    if (c.issue) {
      issues.push(c.issue);
      return;
    }
    if (!prefix || !c.prefix) return;
    const inside = c.prefix.length >= prefix.length && prefixContains(prefix, c.prefix.base);
    if (!inside) {
      issues.push({
        path: at,
        message: `${entry} is not inside the peer's cidr ${formatPrefix4(prefix)}: except only leaves out parts of cidr; remove it or widen cidr`,
        value: entry,
        allowed: `CIDRs inside ${formatPrefix4(prefix)}`,
      });
    } else if (c.prefix.length === prefix.length) {
      issues.push({
        path: at,
        message: `${entry} is the whole of the peer's cidr, so the peer matches nothing: remove the peer, or except only a part of it`,
        value: entry,
      });
    }
  });
}

/** "80", "8000-8080" or a number: the range it stands for, or the issue. "@set" is not handled here. */
function checkPortRange(entry: string | number, path: string): FieldIssue | undefined {
  const parts = typeof entry === 'number' ? [entry] : entry.split('-').map(Number);
  const [lo, hi = lo] = parts;
  if (lo === undefined || hi === undefined || !Number.isInteger(lo) || !Number.isInteger(hi)) return undefined; // the schema reports it
  if (lo < 1 || hi > MAX_PORT || lo > hi) {
    const why = lo > hi ? `the range starts after it ends (${lo} > ${hi}): write ${hi}-${lo}` : `ports are 1 to ${MAX_PORT}`;
    return { path, message: `port ${quote(entry)} is out of range: ${why}`, value: entry, allowed: `1-${MAX_PORT}, or a range "a-b" with 1 <= a <= b <= ${MAX_PORT}` };
  }
  return undefined;
}

/** spec.portSets: ranges in bounds, no set referring to another. Returns the set names. */
function checkPortSets(spec: Record<string, unknown>, base: string, issues: FieldIssue[]): string[] {
  if (!isObject(spec.portSets)) return [];
  const names = Object.keys(spec.portSets);
  for (const name of names) {
    const entries = spec.portSets[name];
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, j: number) => {
      const at = `${base}/portSets/${escapeKey(name)}/${j}`;
      if (typeof entry === 'string' && entry.startsWith('@')) {
        issues.push({
          path: at,
          message: `port set "${name}" refers to port set ${quote(entry)}; port sets hold ports and ranges only: list the ports of ${quote(entry)} here instead`,
          value: entry,
          allowed: 'a port (80) or a range ("8000-8080")',
        });
        return;
      }
      if (typeof entry === 'string' || typeof entry === 'number') {
        const issue = checkPortRange(entry, at);
        if (issue) issues.push(issue);
      }
    });
  }
  return names;
}

/** protocol and ports of one rule at `path`. */
function checkPorts(rule: Record<string, unknown>, path: string, setNames: string[], issues: FieldIssue[]): void {
  if (!Array.isArray(rule.ports)) return;
  if (rule.ports.length === 0) {
    issues.push({ path: `${path}/ports`, message: 'an empty ports list matches no port: leave ports out to match every port, or list some' });
    return;
  }
  const protocol = typeof rule.protocol === 'string' ? rule.protocol : undefined;
  if (protocol === undefined || !PORT_PROTOCOLS.includes(protocol)) {
    issues.push({
      path: `${path}/ports`,
      message: `ports need protocol tcp or udp (this rule's protocol is ${protocol ?? 'any, the default'}): add \`protocol: tcp\` (or udp) to the rule, or remove ports`,
      allowed: 'ports with protocol tcp or udp',
    });
  }
  rule.ports.forEach((entry: unknown, j: number) => {
    const at = `${path}/ports/${j}`;
    if (typeof entry === 'string' && entry.startsWith('@')) {
      const name = entry.slice(1);
      if (setNames.includes(name)) return;
      const hint = closestMatch(name, setNames);
      issues.push({
        path: at,
        message:
          `port set ${quote(entry)} is not defined in spec.portSets` +
          (hint ? ` (did you mean "@${hint}"?)` : setNames.length === 0 ? `: define it there, e.g. portSets: { ${name}: [80, 443] }` : ': define it there or use one that is'),
        value: entry,
        ...(setNames.length > 0 ? { allowed: setNames.map((n) => `@${n}`).join(', ') } : {}),
      });
      return;
    }
    if (typeof entry === 'string' || typeof entry === 'number') {
      const issue = checkPortRange(entry, at);
      if (issue) issues.push(issue);
    }
  });
}

/**
 * The address pieces a peer list can expand to, as far as validation knows:
 * a cidr is one interval, plus one per except entry (each can split it in
 * two); an endpoint peer (selector and/or network) counts one, though it
 * expands to one element per endpoint it matches, unknown until then. No
 * list: any address, one interval. `networkIsSubnet`: a peer naming only a
 * network is its subnet, one interval (the Firewall VNF's rule).
 */
export function countPeerPieces(list: unknown, networkIsSubnet = false): { pieces: number; endpointPeers: boolean } {
  if (!Array.isArray(list)) return { pieces: 1, endpointPeers: false };
  let pieces = 0;
  let endpointPeers = false;
  for (const peer of list) {
    if (!isObject(peer)) continue;
    if (peer.cidr !== undefined) {
      pieces += 1 + (Array.isArray(peer.except) ? peer.except.length : 0);
    } else if (peer.selector !== undefined || peer.network !== undefined) {
      pieces += 1;
      if (peer.selector !== undefined || !networkIsSubnet) endpointPeers = true;
    }
  }
  return { pieces, endpointPeers };
}

/** The port intervals a rule can expand to: one per entry (a range is one), "@set" as many as the set holds; no ports, or a protocol without ports: every port, one. */
export function countPortPieces(rule: Record<string, unknown>, portSets: unknown): number {
  if (!Array.isArray(rule.ports) || typeof rule.protocol !== 'string' || !PORT_PROTOCOLS.includes(rule.protocol)) return 1;
  let pieces = 0;
  for (const entry of rule.ports) {
    if (typeof entry === 'string' && entry.startsWith('@')) {
      const set = isObject(portSets) ? portSets[entry.slice(1)] : undefined;
      pieces += Array.isArray(set) ? set.length : 0; // an unknown set is reported on its own
    } else {
      pieces += 1;
    }
  }
  return pieces;
}

/** How far one rule can expand: what checkRuleSizes judges. */
export interface RuleSize {
  /** pointer of the rule */
  path: string;
  elements: number;
  /** how `elements` is made, e.g. "1024 address ranges x 1024 ports" */
  factors: string;
  /** true when the count holds endpoint peers at one each */
  endpointPeers: boolean;
}

/** A policy's peer list and ports -> its RuleSize. */
function policyRuleSize(rule: Record<string, unknown>, path: string, peers: 'from' | 'to', portSets: unknown): RuleSize {
  const addrs = countPeerPieces(rule[peers]);
  const ports = countPortPieces(rule, portSets);
  return { path, elements: addrs.pieces * ports, factors: `${addrs.pieces} address ranges x ${ports} ports or port ranges`, endpointPeers: addrs.endpointPeers };
}

const SIZE_FIX = 'cover addresses with fewer, wider CIDRs and ports with ranges ("8000-8080") instead of listing them one by one';
const ENDPOINT_NOTE = '; endpoint peers count 1 each here but expand to one element per endpoint they match';

/**
 * Refuses a rule that expands past MAX_ELEMENTS_PER_RULE, and rules that
 * together pass MAX_ELEMENTS_PER_POLICY (at the rule that passes it).
 * `whole` names what holds the rules ("policy", "firewall"); `split`, if
 * given, how to spread them over several.
 */
export function checkRuleSizes(sizes: readonly RuleSize[], whole: string, split: string | undefined, issues: FieldIssue[]): void {
  let total = 0;
  let passedAt: RuleSize | undefined;
  for (const size of sizes) {
    total += size.elements;
    if (passedAt === undefined && total > MAX_ELEMENTS_PER_POLICY) passedAt = size;
    if (size.elements <= MAX_ELEMENTS_PER_RULE) continue;
    issues.push({
      path: size.path,
      message:
        `this rule expands to up to ${size.elements} nftables elements (${size.factors}${size.endpointPeers ? ENDPOINT_NOTE : ''}), ` +
        `more than ${MAX_ELEMENTS_PER_RULE} per rule, and every host enforcing it would compile and hold them all: ${SIZE_FIX}, or split the rule into several`,
      value: size.elements,
      allowed: `at most ${MAX_ELEMENTS_PER_RULE} elements per rule`,
    });
  }
  if (passedAt === undefined) return;
  const endpointPeers = sizes.some((s) => s.endpointPeers);
  issues.push({
    path: passedAt.path,
    message:
      `the ${whole}'s rules expand to up to ${total} nftables elements in all (this rule passes the limit${endpointPeers ? ENDPOINT_NOTE : ''}), ` +
      `more than ${MAX_ELEMENTS_PER_POLICY} per ${whole}: ${SIZE_FIX}${split ? `, or ${split}` : ''}`,
    value: total,
    allowed: `at most ${MAX_ELEMENTS_PER_POLICY} elements per ${whole}`,
  });
}

/** Rule names within one direction: unique, not "default" (the default action's counter), not another unnamed rule's position. */
function checkRuleNames(rules: unknown[], path: string, direction: Direction, issues: FieldIssue[]): void {
  const named = new Map<string, number>();
  rules.forEach((rule, i) => {
    if (!isObject(rule) || typeof rule.name !== 'string') return;
    const name = rule.name;
    const at = `${path}/${i}/name`;
    if (name === RESERVED_RULE_NAME) {
      issues.push({ path: at, message: `rule name "${RESERVED_RULE_NAME}" is reserved for the default action's counters: choose another name`, value: name });
      return;
    }
    const first = named.get(name);
    if (first !== undefined) {
      issues.push({
        path: at,
        message: `rule name "${name}" is used twice in ${direction} (also ${path}/${first}): rule names must be unique within a direction; rename one`,
        value: name,
      });
      return;
    }
    named.set(name, i);
    // An unnamed rule is named by its position: a rule named "3" would share rule 3's counters.
    if (/^\d+$/.test(name)) {
      const position = Number(name);
      const other = rules[position];
      if (position !== i && other !== undefined && !(isObject(other) && typeof other.name === 'string')) {
        issues.push({
          path: at,
          message: `rule name "${name}" is the name of unnamed rule ${position} (unnamed rules are named by their position): choose a name that is not a number, or name rule ${position}`,
          value: name,
        });
      }
    }
  });
}

/**
 * Semantic checks on a FirewallPolicy spec; `base` is the pointer of the
 * spec in its document. Returns every issue found. `sizes: false` leaves out
 * the rule size checks, for a caller that counts its rules another way (the
 * Firewall VNF, whose rules have both `from` and `to`).
 */
export function checkFirewallPolicySpec(spec: FirewallPolicySpec | Record<string, unknown>, base = '/spec', options: { sizes?: boolean } = {}): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!isObject(spec)) return issues;
  const setNames = checkPortSets(spec, base, issues);
  const counts: Record<Direction, number> = { ingress: 0, egress: 0 };
  const sizes: RuleSize[] = [];
  for (const { direction, peers } of DIRECTIONS) {
    const policy = spec[direction];
    if (!isObject(policy) || !Array.isArray(policy.rules)) continue;
    const rulesPath = `${base}/${direction}/rules`;
    counts[direction] = policy.rules.length;
    checkRuleNames(policy.rules, rulesPath, direction, issues);
    policy.rules.forEach((rule: unknown, i: number) => {
      if (!isObject(rule)) return;
      const at = `${rulesPath}/${i}`;
      const list = rule[peers];
      if (Array.isArray(list)) {
        if (list.length === 0) {
          issues.push({
            path: `${at}/${peers}`,
            message: `an empty "${peers}" list matches no ${peers === 'from' ? 'source' : 'destination'}: leave "${peers}" out to match any, or list peers`,
          });
        }
        list.forEach((peer: unknown, k: number) => checkPeer(peer, `${at}/${peers}/${k}`, peers, issues));
      }
      checkPorts(rule, at, setNames, issues);
      sizes.push(policyRuleSize(rule, at, peers, spec.portSets));
    });
  }
  const total = counts.ingress + counts.egress;
  if (total > MAX_RULES_PER_POLICY) {
    issues.push({
      path: `${base}/${counts.egress > 0 ? 'egress' : 'ingress'}/rules`,
      message: `the policy has ${total} rules (ingress ${counts.ingress} + egress ${counts.egress}), more than ${MAX_RULES_PER_POLICY} in all: split it into several policies`,
      value: total,
      allowed: `at most ${MAX_RULES_PER_POLICY} rules per policy`,
    });
  }
  if (options.sizes !== false) checkRuleSizes(sizes, 'policy', 'split the policy into several policies', issues);
  return issues;
}
