// Types for the part of nftables' JSON schema (libnftables-json(5),
// json_schema_version 1) that weft writes and reads back. Deliberately
// partial: a type here means "weft emits or parses this and a kernel test
// has seen nft 1.0.6 accept it", not "nft supports this". Extend as rulesets
// need more; keep field names exactly as the schema spells them.

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
  meta: { key: 'iifname' | 'oifname' | 'iif' | 'oif' | 'mark' | 'l4proto' | 'nfproto' };
}

export interface NftConcatExpr {
  concat: NftExpr[];
}

/**
 * A value: a string is an immediate (`"wb-*"` is an interface-name wildcard,
 * `"@name"` a reference to a named set), numbers and booleans are immediates.
 */
export type NftExpr = string | number | boolean | NftMetaExpr | NftConcatExpr;

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

export type NftStatement = NftMatchStmt | NftCounterStmt | NftAcceptStmt | NftDropStmt;

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
  | { element: NftElement }
  | { rule: NftRule };

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

/**
 * "Delete the table if it exists" as two commands for one transaction: nft
 * 1.0.6 has no `destroy`, a bare `delete` fails the whole transaction with
 * ENOENT when the table is absent, and `add` of an existing table is a no-op.
 */
export function deleteTableCommands(family: NftFamily, name: string): NftCommand[] {
  return [{ add: { table: { family, name } } }, { delete: { table: { family, name } } }];
}
