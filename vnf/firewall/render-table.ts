// The Firewall VNF's nftables table, rendered whole from a FirewallModel
// (compile-rules.ts). Pure. It lives in the firewall's own namespace, so it
// sees only traffic between the guarded networks:
//
//   table inet weft-vnf-firewall {
//     map b-0 ... { type ipv4_addr . ipv4_addr . inet_proto . inet_service : verdict; flags interval; counter }
//     chain forward { type filter hook forward priority filter; policy drop;
//       ct state invalid counter drop
//       ct state related meta l4proto { icmp, ipv6-icmp } accept
//       ct direction original goto judge
//       ct direction reply goto judge-r
//     }
//     chain judge   { ip saddr . ip daddr . meta l4proto . th dport vmap @b-0; ...; <default> }
//     chain judge-r { ip daddr . ip saddr . meta l4proto . th sport vmap @b-0; ...; <default> }
//     chain log-<rule> { ct state new log group G prefix "<firewall>/<rule>"; <verdict> }
//     chain reject { meta l4proto tcp reject with tcp reset; reject with icmpx admin-prohibited }
//   }
//
// Stateful the way the FirewallPolicy table is (agents/datapath/nft/
// policy-ruleset.ts): every packet is judged by its connection's first
// packet. Original-direction packets are looked up by their own fields,
// replies by the mirrored ones (the reply's destination is the connection's
// source, its source port the connection's destination port) in the same
// maps. So replies of an allowed connection pass with no rule of their own,
// and a rule change cuts open connections it no longer allows from their
// next packet on. Cost per packet: one lookup per block, not per rule.
// Packets conntrack cannot track (none here: nothing sets notrack) meet the
// chain's drop policy: fail closed.
import type { DefaultAction } from '../../model/firewall.js';
import type { NftCommand, NftDocument, NftExpr, NftMap, NftMapElem, NftRule, NftStatement, NftVerdict } from '../../model/nft-json.js';
import type { Interval } from '../../model/rule-intervals.js';
import { REJECT_CHAIN, type FirewallModel, type LogChain, type MapElement, type Verdict } from './compile-rules.js';

/** The firewall's one table, inside its namespace. */
export const FIREWALL_VNF_TABLE = 'weft-vnf-firewall';
export const FIREWALL_FAMILY = 'inet';
export const FORWARD_CHAIN = 'forward';
export const JUDGE_CHAIN = 'judge';
export const JUDGE_REPLY_CHAIN = 'judge-r';
/** The default action's rules carry this comment; their counters are the "default" rule's. */
export const DEFAULT_COMMENT = 'default';
export const INVALID_COMMENT = 'weft: invalid';
/** filter: the firewall namespace has no other tables. */
const FORWARD_PRIORITY = 0;
/** nflog group of log rules inside the firewall namespace. */
export const DEFAULT_VNF_LOG_GROUP = 4713;

const base = () => ({ family: FIREWALL_FAMILY, table: FIREWALL_VNF_TABLE }) as const;
const ip = (field: 'saddr' | 'daddr'): NftExpr => ({ payload: { protocol: 'ip', field } });
const th = (field: 'sport' | 'dport'): NftExpr => ({ payload: { protocol: 'th', field } });
const l4proto: NftExpr = { meta: { key: 'l4proto' } };

/** Original direction: the packet's own fields; replies: mirrored. */
function keyExpr(reply: boolean): NftExpr {
  return reply ? { concat: [ip('daddr'), ip('saddr'), l4proto, th('sport')] } : { concat: [ip('saddr'), ip('daddr'), l4proto, th('dport')] };
}

function verdictJson(v: Verdict): NftVerdict {
  switch (v.kind) {
    case 'accept':
      return { accept: null };
    case 'drop':
      return { drop: null };
    case 'jump':
      return { jump: { target: v.target } };
    default:
      return { goto: { target: v.target } };
  }
}

const dotted = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** The prefix length when [lo, hi] is exactly one aligned CIDR. */
function prefixLength(lo: number, hi: number): number | undefined {
  const size = hi - lo + 1;
  if (size <= 0 || lo % size !== 0) return undefined;
  const bits = Math.log2(size);
  return Number.isInteger(bits) ? 32 - bits : undefined;
}

function addressJson([lo, hi]: Interval): NftExpr {
  if (lo === hi) return dotted(lo);
  const len = prefixLength(lo, hi);
  return len === undefined ? { range: [dotted(lo), dotted(hi)] } : { prefix: { addr: dotted(lo), len } };
}

function numberJson([lo, hi]: Interval): NftExpr {
  return lo === hi ? lo : { range: [lo, hi] };
}

function elementJson(e: MapElement): NftMapElem {
  const [src, dst, proto, port] = e.box;
  return [{ concat: [addressJson(src), addressJson(dst), numberJson(proto), numberJson(port)] }, verdictJson(e.verdict)];
}

function blockMap(name: string, elements: readonly MapElement[]): NftMap {
  const m: NftMap = {
    ...base(),
    name,
    type: ['ipv4_addr', 'ipv4_addr', 'inet_proto', 'inet_service'],
    map: 'verdict',
    flags: ['interval'],
    stmt: [{ counter: null }],
  };
  if (elements.length > 0) m.elem = elements.map(elementJson);
  return m;
}

function rule(chain: string, expr: NftStatement[], comment?: string): NftRule {
  const r: NftRule = { ...base(), chain, expr };
  if (comment !== undefined) r.comment = comment;
  return r;
}

function forwardRules(): NftRule[] {
  const ctDirection = (dir: 'original' | 'reply'): NftStatement => ({ match: { op: '==', left: { ct: { key: 'direction' } }, right: dir } });
  return [
    rule(FORWARD_CHAIN, [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: 'invalid' } }, { counter: null }, { drop: null }], INVALID_COMMENT),
    // ICMP errors about a connection carry a router's address; they belong to a connection already judged.
    rule(FORWARD_CHAIN, [
      { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'related' } },
      { match: { op: '==', left: l4proto, right: { set: ['icmp', 'ipv6-icmp'] } } },
      { accept: null },
    ]),
    rule(FORWARD_CHAIN, [ctDirection('original'), { goto: { target: JUDGE_CHAIN } }]),
    rule(FORWARD_CHAIN, [ctDirection('reply'), { goto: { target: JUDGE_REPLY_CHAIN } }]),
  ];
}

function defaultVerdict(action: DefaultAction): NftStatement {
  if (action === 'allow') return { accept: null };
  if (action === 'deny') return { drop: null };
  return { jump: { target: REJECT_CHAIN } };
}

function judgeRules(model: FirewallModel, reply: boolean): NftRule[] {
  const chain = reply ? JUDGE_REPLY_CHAIN : JUDGE_CHAIN;
  const rules = model.maps.map((m) => rule(chain, [{ vmap: { key: keyExpr(reply), data: `@${m.name}` } }]));
  rules.push(rule(chain, [{ counter: null }, defaultVerdict(model.defaultAction)], DEFAULT_COMMENT));
  return rules;
}

function logRules(l: LogChain, firewall: string, group: number): NftRule[] {
  const r = [
    rule(l.name, [
      { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'new' } },
      // nft cuts prefixes at 127 characters; firewall and rule names are at most 63 each.
      { log: { prefix: `${firewall}/${l.rule}`, group } },
    ]),
  ];
  if (l.action === 'deny') r.push(rule(l.name, [{ drop: null }]));
  else if (l.action === 'reject') r.push(rule(l.name, [{ jump: { target: REJECT_CHAIN } }]));
  else if (l.action === 'allow') r.push(rule(l.name, [{ accept: null }]));
  return r;
}

function rejectRules(): NftRule[] {
  return [
    rule(REJECT_CHAIN, [{ match: { op: '==', left: l4proto, right: 'tcp' } }, { reject: { type: 'tcp reset' } }]),
    rule(REJECT_CHAIN, [{ reject: { type: 'icmpx', expr: 'admin-prohibited' } }]),
  ];
}

const addChain = (name: string): NftCommand => ({ add: { chain: { ...base(), name } } });
const addRule = (r: NftRule): NftCommand => ({ add: { rule: r } });

/**
 * The whole table, replacing whatever table of that name exists in one
 * transaction (add + delete + add: nft 1.0.6 has no `destroy`): packets see
 * the old rules or the new, never none. Counters restart at zero.
 */
export function renderFirewallTable(model: FirewallModel, firewall: string, logGroup = DEFAULT_VNF_LOG_GROUP): NftDocument {
  const table = { family: FIREWALL_FAMILY, name: FIREWALL_VNF_TABLE } as const;
  const cmds: NftCommand[] = [{ add: { table } }, { delete: { table } }, { add: { table } }];
  cmds.push(addChain(REJECT_CHAIN), ...rejectRules().map(addRule));
  for (const l of model.logChains) cmds.push(addChain(l.name), ...logRules(l, firewall, logGroup).map(addRule));
  for (const m of model.maps) cmds.push({ add: { map: blockMap(m.name, m.elements) } });
  cmds.push(addChain(JUDGE_CHAIN), addChain(JUDGE_REPLY_CHAIN));
  cmds.push(...judgeRules(model, false).map(addRule), ...judgeRules(model, true).map(addRule));
  cmds.push({ add: { chain: { ...base(), name: FORWARD_CHAIN, type: 'filter', hook: 'forward', prio: FORWARD_PRIORITY, policy: 'drop' } } });
  cmds.push(...forwardRules().map(addRule));
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}
