// FirewallPolicy enforcement as one nftables table, rendered from a
// PolicyModel (agents/firewall/policy-compiler.ts). Pure.
//
//   table inet weft-firewall {
//     map ingress / ingress-r / egress / egress-r { type ipv4_addr : verdict }   endpoint -> group chain
//     map g-<hash>-in-0 ... { type ipv4_addr . inet_proto . inet_service : verdict; flags interval; counter }
//     chain forward { type filter hook forward priority filter - 5; policy accept;
//       iifname "wb-*" ether daddr & ff:ff:00:00:00:00 == 0a:77:00:00:00:00 ct state invalid accept
//       iifname "wb-*" ct state invalid counter drop
//       oifname "wb-*" ct state invalid counter drop
//       ct state related meta l4proto { icmp, ipv6-icmp } accept
//       ct direction original ip saddr vmap @egress
//       ct direction reply ip daddr vmap @egress-r
//       ct direction original ip daddr vmap @ingress
//       ct direction reply ip saddr vmap @ingress-r
//     }
//     chain g-<hash>-in   { ip saddr . meta l4proto . th dport vmap @g-<hash>-in-0 ...; <default> }
//     chain g-<hash>-in-r { ip daddr . meta l4proto . th sport vmap @g-<hash>-in-0 ...; <default> }
//     chain wl-<hash> { ct state new log group G prefix "wl-<hash>"; <verdict> }
//     chain reject { meta l4proto tcp reject with tcp reset; reject with icmpx admin-prohibited }
//   }
//
// Statefulness without a blanket "established: accept": every packet is
// judged by its connection's first packet. Packets in the original direction
// are looked up by their own fields; replies by the mirrored fields (the
// reply's destination is the connection's source, its source port the
// connection's destination port), in a second chain per group over the same
// maps. So replies of an allowed connection pass, and a policy change cuts
// open connections it no longer allows from their next packet on. Cost per
// packet: one entry lookup per direction plus one per block, not per rule.
//
// A VNF on this host (its MACs start 0a:77, vnfMac) that translates
// addresses (a Router's NAT) sends the replies of a workload's connection
// back out of its own port, where this host does not track them
// (vnf/port-table.ts): the host sees one direction only, and the workload's
// packets after its first look invalid here. They go on to the VNF, which
// tracks the connection whole and drops what is invalid there; the first
// packet was judged here like any other.
//
// Bridged packets reach the inet forward hook through br_netfilter (weft's
// bridges have nf_call_iptables set); traffic between a host's endpoints is
// judged once on that host: egress of the sender, then ingress of the
// receiver (allow is `return`, so the second lookup still happens). Across
// hosts, the sender's host judges egress and the receiver's host ingress.
import { boxKey } from '../../../model/box-packer.js';
import { BRIDGE_PREFIX, HOST_NFT_TABLES } from '../../../model/kernel-names.js';
import { ipv4ToInt } from '../../../model/ip.js';
import { VNF_MAC_MASK, VNF_MAC_PREFIX } from '../../../model/vnf-names.js';
import {
  deleteTableCommands,
  isChainObject,
  isMapObject,
  isRuleObject,
  isTableObject,
  type NftCommand,
  type NftDocument,
  type NftExpr,
  type NftListObject,
  type NftMap,
  type NftMapElem,
  type NftRule,
  type NftStatement,
  type NftVerdict,
} from '../../../model/nft-json.js';
import type { Interval } from '../../../model/rule-intervals.js';
import { DatapathError } from '../errors.js';
import {
  REJECT_CHAIN, defaultCounterKey, elementCounterKey, modelRules, replyChain, ruleKey, sameGroup, sameVerdict,
  type CounterReading, type Direction, type ElementCounter, type GroupChain, type LogChain, type MapElement, type PolicyModel, type Verdict,
} from '../policy-model.js';

export const POLICY_FAMILY = HOST_NFT_TABLES.policy.family;
export const POLICY_TABLE = HOST_NFT_TABLES.policy.name;
export const FORWARD_CHAIN = 'forward';
/** After the isolation table (filter - 10): a packet isolation drops is not counted against any rule here. */
const POLICY_PRIORITY = -5;
/** Default nflog group the agent listens on. */
export const DEFAULT_LOG_GROUP = 4712;
export const INVALID_COMMENT = 'weft: invalid';
export const TO_VNF_COMMENT = 'weft: to a VNF, tracked there';
const DEFAULT_COMMENT_PREFIX = 'default:';

/** [peer, protocol, port], as the compiler makes them. */
type Box = MapElement['box'];

const ENTRY_MAPS: Record<Direction, { orig: string; reply: string }> = {
  ingress: { orig: 'ingress', reply: 'ingress-r' },
  egress: { orig: 'egress', reply: 'egress-r' },
};

const base = () => ({ family: POLICY_FAMILY, table: POLICY_TABLE }) as const;
const ip = (field: 'saddr' | 'daddr'): NftExpr => ({ payload: { protocol: 'ip', field } });
const th = (field: 'sport' | 'dport'): NftExpr => ({ payload: { protocol: 'th', field } });
const l4proto: NftExpr = { meta: { key: 'l4proto' } };
const ctDirection = (dir: 'original' | 'reply') => ({ match: { op: '==' as const, left: { ct: { key: 'direction' as const } }, right: dir } });

/**
 * The key a group chain looks its blocks up with. Ingress: the peer is the
 * source; egress: the destination. Replies mirror both address and port.
 */
function blockKeyExpr(direction: Direction, reply: boolean): NftExpr {
  const peer = direction === 'ingress' ? (reply ? 'daddr' : 'saddr') : reply ? 'saddr' : 'daddr';
  return { concat: [ip(peer), l4proto, th(reply ? 'sport' : 'dport')] };
}

function verdictJson(v: Verdict): NftVerdict {
  switch (v.kind) {
    case 'return':
      return { return: null };
    case 'drop':
      return { drop: null };
    case 'jump':
      return { jump: { target: v.target } };
    default:
      return { goto: { target: v.target } };
  }
}

function isPrefix(lo: number, hi: number): number | undefined {
  const size = hi - lo + 1;
  // a power of two, aligned
  if (size <= 0 || (size & (size - 1)) !== 0 && size !== 2 ** 32) return undefined;
  if (lo % size !== 0) return undefined;
  return 32 - Math.log2(size);
}

const dotted = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

function addressJson([lo, hi]: Interval): NftExpr {
  if (lo === hi) return dotted(lo);
  const len = isPrefix(lo, hi);
  if (len !== undefined) return { prefix: { addr: dotted(lo), len } };
  return { range: [dotted(lo), dotted(hi)] };
}

function numberJson([lo, hi]: Interval): NftExpr {
  return lo === hi ? lo : { range: [lo, hi] };
}

function boxJson(b: Box): NftExpr {
  return { concat: [addressJson(b[0]), numberJson(b[1]), numberJson(b[2])] };
}

function elementJson(e: MapElement): NftMapElem {
  return [boxJson(e.box), verdictJson(e.verdict)];
}

function blockMap(name: string, elements?: Iterable<MapElement>): NftMap {
  const m: NftMap = { ...base(), name, type: ['ipv4_addr', 'inet_proto', 'inet_service'], map: 'verdict', flags: ['interval'], stmt: [{ counter: null }] };
  if (elements) {
    const elem = [...elements].map(elementJson);
    if (elem.length > 0) m.elem = elem;
  }
  return m;
}

function entryMap(name: string, entries?: ReadonlyMap<string, string>, reply = false): NftMap {
  const m: NftMap = { ...base(), name, type: 'ipv4_addr', map: 'verdict' };
  if (entries && entries.size > 0) m.elem = [...entries].map(([addr, group]): NftMapElem => [addr, { jump: { target: reply ? replyChain(group) : group } }]);
  return m;
}

function rule(chain: string, expr: NftStatement[], comment?: string): NftRule {
  const r: NftRule = { ...base(), chain, expr };
  if (comment !== undefined) r.comment = comment;
  return r;
}

function forwardRules(): NftRule[] {
  const wildcard = `${BRIDGE_PREFIX}*`;
  const invalid = (key: 'iifname' | 'oifname') =>
    rule(
      FORWARD_CHAIN,
      [
        { match: { op: '==', left: { meta: { key } }, right: wildcard } },
        { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'invalid' } },
        { counter: null },
        { drop: null },
      ],
      INVALID_COMMENT,
    );
  const entry = (dir: 'original' | 'reply', field: 'saddr' | 'daddr', map: string) => rule(FORWARD_CHAIN, [ctDirection(dir), { vmap: { key: ip(field), data: `@${map}` } }]);
  return [
    rule(
      FORWARD_CHAIN,
      [
        { match: { op: '==', left: { meta: { key: 'iifname' } }, right: wildcard } },
        { match: { op: '==', left: { '&': [{ payload: { protocol: 'ether', field: 'daddr' } }, VNF_MAC_MASK] }, right: VNF_MAC_PREFIX } },
        { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'invalid' } },
        { accept: null },
      ],
      TO_VNF_COMMENT,
    ),
    invalid('iifname'),
    invalid('oifname'),
    // ICMP errors about a connection (conntrack "related") carry a router's address; they belong to a connection already judged.
    rule(FORWARD_CHAIN, [
      { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'related' } },
      { match: { op: '==', left: l4proto, right: { set: ['icmp', 'ipv6-icmp'] } } },
      { accept: null },
    ]),
    entry('original', 'saddr', ENTRY_MAPS.egress.orig),
    entry('reply', 'daddr', ENTRY_MAPS.egress.reply),
    entry('original', 'daddr', ENTRY_MAPS.ingress.orig),
    entry('reply', 'saddr', ENTRY_MAPS.ingress.reply),
  ];
}

function groupRules(g: GroupChain, reply: boolean): NftRule[] {
  const chain = reply ? replyChain(g.name) : g.name;
  const rules = g.maps.map((m) => rule(chain, [{ vmap: { key: blockKeyExpr(g.direction, reply), data: `@${m}` } }]));
  if (g.defaultAction !== 'allow') {
    const comment = `${DEFAULT_COMMENT_PREFIX}${g.defaultPolicy ?? ''}`;
    rules.push(rule(chain, [{ counter: null }, g.defaultAction === 'deny' ? { drop: null } : { jump: { target: REJECT_CHAIN } }], comment));
  }
  return rules;
}

function logRules(l: LogChain, group: number): NftRule[] {
  const stmts: NftStatement[] = [
    { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'new' } },
    { log: { prefix: l.name, group } },
  ];
  const r = [rule(l.name, stmts)];
  if (l.action === 'deny') r.push(rule(l.name, [{ drop: null }]));
  else if (l.action === 'reject') r.push(rule(l.name, [{ jump: { target: REJECT_CHAIN } }]));
  else if (l.action === 'allow') r.push(rule(l.name, [{ return: null }]));
  return r;
}

function rejectRules(): NftRule[] {
  return [
    rule(REJECT_CHAIN, [{ match: { op: '==', left: l4proto, right: 'tcp' } }, { reject: { type: 'tcp reset' } }]),
    rule(REJECT_CHAIN, [{ reject: { type: 'icmpx', expr: 'admin-prohibited' } }]),
  ];
}

const addChain = (name: string): NftCommand => ({ add: { chain: { ...base(), name } } });

/**
 * The whole table, replacing whatever table of that name exists in one
 * transaction: packets see the old rules or the new, never none. Used for
 * the first apply of an agent's life (adopting a table a previous agent left:
 * it stays in force until this commits) and after a failed incremental one.
 */
export function renderPolicyTable(model: PolicyModel, logGroup = DEFAULT_LOG_GROUP): NftDocument {
  const cmds: NftCommand[] = [...deleteTableCommands(POLICY_FAMILY, POLICY_TABLE), { add: { table: { family: POLICY_FAMILY, name: POLICY_TABLE } } }];
  cmds.push(addChain(REJECT_CHAIN), ...rejectRules().map((r): NftCommand => ({ add: { rule: r } })));
  for (const l of model.logChains.values()) cmds.push(addChain(l.name));
  for (const l of model.logChains.values()) for (const r of logRules(l, logGroup)) cmds.push({ add: { rule: r } });
  for (const [name, elements] of model.maps) cmds.push({ add: { map: blockMap(name, elements.values()) } });
  for (const g of model.groups.values()) cmds.push(addChain(g.name), addChain(replyChain(g.name)));
  for (const g of model.groups.values()) for (const r of [...groupRules(g, false), ...groupRules(g, true)]) cmds.push({ add: { rule: r } });
  for (const dir of ['ingress', 'egress'] as const) {
    cmds.push({ add: { map: entryMap(ENTRY_MAPS[dir].orig, model.entries[dir]) } });
    cmds.push({ add: { map: entryMap(ENTRY_MAPS[dir].reply, model.entries[dir], true) } });
  }
  cmds.push({
    add: { chain: { ...base(), name: FORWARD_CHAIN, type: 'filter', hook: 'forward', prio: POLICY_PRIORITY, policy: 'accept' } },
  });
  for (const r of forwardRules()) cmds.push({ add: { rule: r } });
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

/**
 * The commands that turn table `from` into `to`, for one transaction. Element
 * changes only, where the structure allows; a chain whose lookups changed is
 * flushed and refilled in the same transaction. Order matters to nft's
 * reference checks: what is referenced is added before, and deleted after,
 * what references it. Undefined when nothing changes.
 */
export function diffPolicyTable(from: PolicyModel, to: PolicyModel, logGroup = DEFAULT_LOG_GROUP): NftDocument | undefined {
  const cmds: NftCommand[] = [];
  // 1. new log chains, new maps, new group chains (empty)
  for (const [name, l] of to.logChains) {
    const old = from.logChains.get(name);
    if (!old) {
      cmds.push(addChain(name));
      for (const r of logRules(l, logGroup)) cmds.push({ add: { rule: r } });
    } else if (old.action !== l.action) {
      cmds.push({ flush: { chain: { ...base(), name } } });
      for (const r of logRules(l, logGroup)) cmds.push({ add: { rule: r } });
    }
  }
  for (const name of to.maps.keys()) if (!from.maps.has(name)) cmds.push({ add: { map: blockMap(name) } });
  for (const name of to.groups.keys()) if (!from.groups.has(name)) cmds.push(addChain(name), addChain(replyChain(name)));
  // 2. block map elements: stale ones out, then new ones in (a changed verdict is both)
  for (const [name, elements] of to.maps) {
    // The compiler hands on an unchanged block's map as the same object.
    if (from.maps.get(name) === elements) continue;
    const old = from.maps.get(name) ?? new Map<string, MapElement>();
    const gone: NftMapElem[] = [];
    const added: NftMapElem[] = [];
    for (const [key, e] of old) {
      const next = elements.get(key);
      if (!next || !sameVerdict(next.verdict, e.verdict)) gone.push(elementJson(e));
    }
    for (const [key, e] of elements) {
      const prev = old.get(key);
      if (!prev || !sameVerdict(prev.verdict, e.verdict)) added.push(elementJson(e));
    }
    if (gone.length > 0) cmds.push({ delete: { element: { ...base(), name, elem: gone } } });
    if (added.length > 0) cmds.push({ add: { element: { ...base(), name, elem: added } } });
  }
  // 3. group chains whose lookups or default changed
  for (const [name, g] of to.groups) {
    const old = from.groups.get(name);
    if (old && sameGroup(old, g)) continue;
    if (old) cmds.push({ flush: { chain: { ...base(), name } } }, { flush: { chain: { ...base(), name: replyChain(name) } } });
    for (const r of [...groupRules(g, false), ...groupRules(g, true)]) cmds.push({ add: { rule: r } });
  }
  // 4. entry maps
  for (const dir of ['ingress', 'egress'] as const) {
    const before = from.entries[dir];
    const after = to.entries[dir];
    for (const reply of [false, true]) {
      const name = reply ? ENTRY_MAPS[dir].reply : ENTRY_MAPS[dir].orig;
      const target = (g: string) => (reply ? replyChain(g) : g);
      const gone: NftMapElem[] = [];
      const added: NftMapElem[] = [];
      for (const [addr, g] of before) if (after.get(addr) !== g) gone.push([addr, { jump: { target: target(g) } }]);
      for (const [addr, g] of after) if (before.get(addr) !== g) added.push([addr, { jump: { target: target(g) } }]);
      if (gone.length > 0) cmds.push({ delete: { element: { ...base(), name, elem: gone } } });
      if (added.length > 0) cmds.push({ add: { element: { ...base(), name, elem: added } } });
    }
  }
  // 5. what nothing references any more: group chains, then their maps, then log chains
  for (const name of from.groups.keys()) {
    if (!to.groups.has(name)) cmds.push({ delete: { chain: { ...base(), name } } }, { delete: { chain: { ...base(), name: replyChain(name) } } });
  }
  for (const name of from.maps.keys()) if (!to.maps.has(name)) cmds.push({ delete: { map: blockMap(name) } });
  for (const name of from.logChains.keys()) if (!to.logChains.has(name)) cmds.push({ delete: { chain: { ...base(), name } } });
  if (cmds.length === 0) return undefined;
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

// ---- reading counters back ------------------------------------------------

const PROTO_NAMES: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132, dccp: 33, gre: 47, esp: 50, ah: 51 };

function protoValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v in PROTO_NAMES) return PROTO_NAMES[v] as number;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new DatapathError('list', `nft table ${POLICY_TABLE}`, 'EINVAL', { cause: new TypeError(`unexpected protocol ${JSON.stringify(v)}`) });
}

function intervalOf(v: unknown, value: (x: unknown) => number): Interval {
  if (typeof v === 'object' && v !== null && 'range' in v) {
    const [a, b] = (v as { range: [unknown, unknown] }).range;
    return [value(a), value(b)];
  }
  if (typeof v === 'object' && v !== null && 'prefix' in v) {
    const p = (v as { prefix: { addr: string; len: number } }).prefix;
    const lo = ipv4ToInt(p.addr);
    const size = 2 ** (32 - p.len);
    return [lo, lo + size - 1];
  }
  const n = value(v);
  return [n, n];
}

function listedBox(val: unknown): Box | undefined {
  if (typeof val !== 'object' || val === null || !('concat' in val)) return undefined;
  const parts = (val as { concat: unknown[] }).concat;
  if (parts.length !== 3) return undefined;
  const addr = intervalOf(parts[0], (x) => ipv4ToInt(String(x)));
  return [addr, intervalOf(parts[1], protoValue), intervalOf(parts[2], (x) => Number(x))];
}

/**
 * Every counter of the table that the model can attribute: each block-map
 * element's counter belongs to the rule the model says owns that element,
 * each group chain's default rule to the policy that supplied the default.
 */
export function readElementCounters(listing: readonly NftListObject[], model: PolicyModel): ElementCounter[] {
  const out: ElementCounter[] = [];
  const groupsByChain = new Map<string, GroupChain>();
  for (const g of model.groups.values()) groupsByChain.set(g.name, g).set(replyChain(g.name), g);
  for (const o of listing) {
    if (isMapObject(o)) {
      const elements = model.maps.get(o.map.name);
      if (!elements) continue;
      for (const [key] of o.map.elem ?? []) {
        if (typeof key !== 'object' || key === null || !('elem' in key)) continue;
        const box = listedBox(key.elem.val);
        const counter = key.elem.counter;
        const e = box && elements.get(boxKey(box));
        if (e && box && counter) out.push({ key: elementCounterKey(o.map.name, box), ref: e.ref, packets: counter.packets, bytes: counter.bytes });
      }
    } else if (isRuleObject(o) && o.rule.comment?.startsWith(DEFAULT_COMMENT_PREFIX)) {
      const g = groupsByChain.get(o.rule.chain);
      if (!g || g.defaultPolicy === undefined) continue;
      for (const st of o.rule.expr) {
        if ('counter' in st && typeof st.counter === 'object' && st.counter !== null) {
          out.push({ key: defaultCounterKey(o.rule.chain), ref: { policy: g.defaultPolicy, direction: g.direction, rule: 'default' }, packets: st.counter.packets, bytes: st.counter.bytes });
        }
      }
    }
  }
  return out;
}

/** Per-rule sums of what the kernel holds now (see readElementCounters). */
export function readPolicyCounters(listing: readonly NftListObject[], model: PolicyModel): CounterReading[] {
  const sums = new Map<string, CounterReading>(modelRules(model).map((ref) => [ruleKey(ref), { ref, packets: 0, bytes: 0 }]));
  for (const c of readElementCounters(listing, model)) {
    const sum = sums.get(ruleKey(c.ref));
    if (sum) {
      sum.packets += c.packets;
      sum.bytes += c.bytes;
    }
  }
  return [...sums.values()];
}

export function hasPolicyTable(listing: readonly NftListObject[]): boolean {
  return listing.some((o) => isTableObject(o) && o.table.name === POLICY_TABLE) && listing.some((o) => isChainObject(o) && o.chain.name === FORWARD_CHAIN);
}
