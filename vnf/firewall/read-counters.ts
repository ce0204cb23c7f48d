// Per-rule counters of a Firewall VNF from `nft -j list table inet
// weft-vnf-firewall` (its objects, metainfo removed): every block-map
// element's counter is credited to the rule the model says owns that
// element, the default rules' counters (one per direction) to "default".
// Pure and defensive: the listing is whatever nft printed.
import { boxKey } from '../../model/box-packer.js';
import type { PerimeterRuleCounter } from '../../model/firewall-vnf.js';
import { ipv4ToInt, isIPv4 } from '../../model/ip.js';
import type { Interval } from '../../model/rule-intervals.js';
import type { FirewallModel } from './compile-rules.js';
import { DEFAULT_COMMENT, JUDGE_CHAIN, JUDGE_REPLY_CHAIN } from './render-table.js';

const PROTO_NAMES: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132, dccp: 33, gre: 47, esp: 50, ah: 51 };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function scalar(v: unknown, kind: 'address' | 'protocol' | 'number'): number | undefined {
  if (kind === 'address') return typeof v === 'string' && isIPv4(v) ? ipv4ToInt(v) : undefined;
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  if (kind === 'protocol' && v in PROTO_NAMES) return PROTO_NAMES[v];
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

function interval(v: unknown, kind: 'address' | 'protocol' | 'number'): Interval | undefined {
  if (isObject(v) && Array.isArray(v.range)) {
    const lo = scalar(v.range[0], kind);
    const hi = scalar(v.range[1], kind);
    return lo === undefined || hi === undefined ? undefined : [lo, hi];
  }
  if (isObject(v) && isObject(v.prefix)) {
    const lo = scalar(v.prefix.addr, 'address');
    const len = v.prefix.len;
    if (lo === undefined || typeof len !== 'number') return undefined;
    return [lo, lo + 2 ** (32 - len) - 1];
  }
  const n = scalar(v, kind);
  return n === undefined ? undefined : [n, n];
}

/** The box of a listed map element's key, when it is one of ours (four fields). */
function listedKey(val: unknown): string | undefined {
  if (!isObject(val) || !Array.isArray(val.concat) || val.concat.length !== 4) return undefined;
  const kinds = ['address', 'address', 'protocol', 'number'] as const;
  const box: Interval[] = [];
  for (let i = 0; i < 4; i++) {
    const iv = interval(val.concat[i], kinds[i] as (typeof kinds)[number]);
    if (!iv) return undefined;
    box.push(iv);
  }
  return boxKey(box);
}

function counterOf(v: unknown): { packets: number; bytes: number } | undefined {
  if (!isObject(v) || typeof v.packets !== 'number' || typeof v.bytes !== 'number') return undefined;
  return { packets: v.packets, bytes: v.bytes };
}

/** Counters in rule order, then "default"; rules without matches yet are there with zeros. */
export function readFirewallCounters(listing: readonly unknown[], model: FirewallModel): PerimeterRuleCounter[] {
  const sums = new Map<string, PerimeterRuleCounter>();
  for (const rule of [...model.rules, DEFAULT_COMMENT]) sums.set(rule, { rule, packets: 0, bytes: 0 });
  const owners = new Map<string, Map<string, string>>();
  for (const m of model.maps) owners.set(m.name, new Map(m.elements.map((e) => [boxKey(e.box), e.rule])));
  const credit = (rule: string | undefined, c: { packets: number; bytes: number } | undefined) => {
    const sum = rule === undefined ? undefined : sums.get(rule);
    if (!sum || !c) return;
    sum.packets += c.packets;
    sum.bytes += c.bytes;
  };
  for (const o of listing) {
    if (!isObject(o)) continue;
    if (isObject(o.map) && typeof o.map.name === 'string' && Array.isArray(o.map.elem)) {
      const byKey = owners.get(o.map.name);
      if (!byKey) continue;
      for (const pair of o.map.elem) {
        const key = Array.isArray(pair) ? pair[0] : undefined;
        if (!isObject(key) || !isObject(key.elem)) continue;
        const k = listedKey(key.elem.val);
        if (k !== undefined) credit(byKey.get(k), counterOf(key.elem.counter));
      }
    } else if (isObject(o.rule) && o.rule.comment === DEFAULT_COMMENT && (o.rule.chain === JUDGE_CHAIN || o.rule.chain === JUDGE_REPLY_CHAIN)) {
      for (const s of Array.isArray(o.rule.expr) ? o.rule.expr : []) if (isObject(s)) credit(DEFAULT_COMMENT, counterOf(s.counter));
    }
  }
  return [...sums.values()];
}
