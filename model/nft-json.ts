// Types for the part of nftables' JSON schema (libnftables-json(5),
// json_schema_version 1) that weft writes and reads back: the agent's
// rulesets (agents/datapath/nft/) and the VNF drivers' tables (vnf/) are
// both documents of these types, which the agent's NftRunner applies.
// Pure, in model/ so that both may import it. Deliberately partial: a type
// here means "weft emits or parses this and a kernel test has seen nft
// 1.0.6 accept it", not "nft supports this". Extend as rulesets need more;
// keep field names exactly as the schema spells them.

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';

export type NftChainType = 'filter' | 'nat' | 'route';

export type NftPolicy = 'accept' | 'drop';

/** Set key types weft uses; a concatenation is an array of them. */
export type NftKeyType = 'ifname' | 'ipv4_addr' | 'ipv6_addr' | 'ether_addr' | 'inet_proto' | 'inet_service' | 'mark';

export interface NftTable {
  family: NftFamily;
  name: string;
  /** set by nft in listings, ignored on input */
  handle?: number;
}

export interface NftChain {
  family: NftFamily;
  table: string;
  name: string;
  handle?: number;
  /** base chains only: type, hook, prio and policy come together */
  type?: NftChainType;
  hook?: NftHook;
  /** numeric priority (filter = 0); the schema also accepts names, weft always writes numbers */
  prio?: number;
  policy?: NftPolicy;
}

// ---- expressions ---------------------------------------------------------

export interface NftMetaExpr {
  meta: { key: 'iifname' | 'oifname' | 'iif' | 'oif' | 'mark' | 'l4proto' | 'nfproto' | 'pkttype' };
}

export interface NftPayloadExpr {
  payload:
    | { protocol: 'ether' | 'ip' | 'ip6' | 'arp' | 'th' | 'tcp' | 'udp' | 'icmpv6'; field: string }
    /** raw: `@th,64,128` (bits); compared with "0x..." immediates */
    | { base: 'll' | 'nh' | 'th'; offset: number; len: number };
}

export interface NftCtExpr {
  ct: { key: 'state' | 'direction' | 'status' | 'mark'; dir?: 'original' | 'reply' };
}

export interface NftPrefixExpr {
  prefix: { addr: string; len: number };
}

export interface NftRangeExpr {
  range: [string | number, string | number];
}

/** A FIB lookup: `fib daddr type` (is the destination one of this namespace's addresses?). */
export interface NftFibExpr {
  fib: { result: 'type' | 'oif' | 'oifname'; flags: Array<'saddr' | 'daddr' | 'iif' | 'oif' | 'mark'> };
}

/** A bitwise AND of a value and a mask: `ether daddr & ff:ff:00:00:00:00` */
export interface NftAndExpr {
  '&': [NftExpr, NftExpr];
}

/** An anonymous set: `{ a, b }` */
export interface NftSetExpr {
  set: NftExpr[];
}

export interface NftConcatExpr {
  concat: NftExpr[];
}

/**
 * A value: a string is an immediate (`"wb-*"` is an interface-name wildcard,
 * `"@name"` a reference to a named set), numbers and booleans are immediates.
 */
export type NftExpr =
  | string
  | number
  | boolean
  | NftMetaExpr
  | NftConcatExpr
  | NftPayloadExpr
  | NftCtExpr
  | NftPrefixExpr
  | NftRangeExpr
  | NftFibExpr
  | NftAndExpr
  | NftSetExpr
  | string[];

// ---- statements ----------------------------------------------------------

export type NftMatchOp = '==' | '!=' | 'in';

export interface NftMatchStmt {
  match: { op: NftMatchOp; left: NftExpr; right: NftExpr };
}

export interface NftCounterStmt {
  /** null on input (an anonymous counter); values in listings */
  counter: null | { packets: number; bytes: number };
}

export interface NftAcceptStmt {
  accept: null;
}

export interface NftDropStmt {
  drop: null;
}

export interface NftReturnStmt {
  return: null;
}

export interface NftJumpStmt {
  jump: { target: string };
}

export interface NftGotoStmt {
  goto: { target: string };
}

/** A verdict as map data or a statement. */
export type NftVerdict = NftAcceptStmt | NftDropStmt | NftReturnStmt | NftJumpStmt | NftGotoStmt;

/** Look `key` up in a verdict map (`@name`) and apply the verdict found. */
export interface NftVmapStmt {
  vmap: { key: NftExpr; data: string };
}

/** A named counter object, by name. */
export interface NftNamedCounterStmt {
  counter: string;
}

export interface NftLogStmt {
  log: { prefix?: string; group?: number };
}

export interface NftRejectStmt {
  reject: { type?: 'tcp reset' | 'icmpx' | 'icmp' | 'icmpv6'; expr?: string } | null;
}

/** Leave the packet untracked by conntrack (raw-priority chains only). */
export interface NftNotrackStmt {
  notrack: null;
}

/** Destination NAT (nat chains only): the connection's destination becomes addr[:port]. */
export interface NftDnatStmt {
  dnat: { addr: string; port?: number };
}

/** Source NAT (nat chains only): the connection's source becomes addr. */
export interface NftSnatStmt {
  snat: { addr: string };
}

/** Source NAT to the address of the interface the packet leaves by (nat chains only). */
export interface NftMasqueradeStmt {
  masquerade: null;
}

/** Set a packet or connection field: `ct mark set 0x7766` is { mangle: { key: { ct: { key: 'mark' } }, value: 0x7766 } }. */
export interface NftMangleStmt {
  mangle: { key: NftExpr; value: NftExpr };
}

export type NftStatement =
  | NftMangleStmt
  | NftMatchStmt
  | NftCounterStmt
  | NftNamedCounterStmt
  | NftVerdict
  | NftVmapStmt
  | NftLogStmt
  | NftRejectStmt
  | NftNotrackStmt
  | NftDnatStmt
  | NftSnatStmt
  | NftMasqueradeStmt;

export interface NftRule {
  family: NftFamily;
  table: string;
  chain: string;
  handle?: number;
  comment?: string;
  expr: NftStatement[];
}

// ---- sets ----------------------------------------------------------------

/** A set element: a plain value, or a concatenation for `a . b` keys. */
export type NftSetElem = string | number | NftConcatExpr;

/** A map element as nft lists it when the map counts: the key with its counter. */
export interface NftListedElem {
  elem: { val: NftExpr; counter?: { packets: number; bytes: number } };
}

/** A verdict-map element: [key, verdict]. */
export type NftMapElem = [NftExpr | NftListedElem, NftVerdict];

export interface NftMap {
  family: NftFamily;
  table: string;
  name: string;
  handle?: number;
  type: NftKeyType | NftKeyType[];
  map: 'verdict';
  flags?: Array<'constant' | 'interval' | 'timeout'>;
  /** [{ counter: null }]: every element gets its own counter */
  stmt?: NftStatement[];
  elem?: NftMapElem[];
}

export interface NftMapElementCmd {
  family: NftFamily;
  table: string;
  /** the map's name */
  name: string;
  elem: NftMapElem[];
}

export interface NftCounterObject {
  family: NftFamily;
  table: string;
  name: string;
  handle?: number;
  packets?: number;
  bytes?: number;
}

export interface NftSet {
  family: NftFamily;
  table: string;
  name: string;
  handle?: number;
  type: NftKeyType | NftKeyType[];
  flags?: Array<'constant' | 'interval' | 'timeout'>;
  comment?: string;
  /** initial elements (in listings: the current ones); omitted when empty */
  elem?: NftSetElem[];
}

export interface NftElement {
  family: NftFamily;
  table: string;
  /** the set's name */
  name: string;
  elem: NftSetElem[];
}

// ---- documents -----------------------------------------------------------

/** What a command acts on: exactly one key. */
export type NftObject =
  | { table: NftTable }
  | { chain: NftChain }
  | { set: NftSet }
  | { element: NftElement | NftMapElementCmd }
  | { rule: NftRule }
  | { map: NftMap }
  | { counter: NftCounterObject };

/**
 * Commands weft sends (`create` is `add` that fails with EEXIST). There is no `destroy` in nft 1.0.6: "delete if
 * present" is `add` followed by `delete` in the same transaction.
 */
export type NftCommand = { add: NftObject } | { create: NftObject } | { delete: NftObject } | { flush: NftObject };

export interface NftMetainfo {
  metainfo: { version?: string; release_name?: string; json_schema_version: number };
}

/** Input to `nft -j -f -`: applied as one transaction (all or nothing). */
export interface NftDocument {
  nftables: Array<NftMetainfo | NftCommand>;
}

/** One entry of `nft -j list ...` output, metainfo removed. */
export type NftListObject = NftObject;

/** Type guards over the one-key objects, for reading listings. */
export function isTableObject(o: NftListObject): o is { table: NftTable } {
  return 'table' in o;
}

export function isChainObject(o: NftListObject): o is { chain: NftChain } {
  return 'chain' in o;
}

export function isSetObject(o: NftListObject): o is { set: NftSet } {
  return 'set' in o;
}

export function isRuleObject(o: NftListObject): o is { rule: NftRule } {
  return 'rule' in o;
}

export function isMapObject(o: NftListObject): o is { map: NftMap } {
  return 'map' in o;
}

export function isCounterObject(o: NftListObject): o is { counter: NftCounterObject } {
  return 'counter' in o;
}

/**
 * "Delete the table if it exists" as two commands for one transaction: nft
 * 1.0.6 has no `destroy`, a bare `delete` fails the whole transaction with
 * ENOENT when the table is absent, and `add` of an existing table is a no-op.
 */
export function deleteTableCommands(family: NftFamily, name: string): NftCommand[] {
  return [{ add: { table: { family, name } } }, { delete: { table: { family, name } } }];
}
