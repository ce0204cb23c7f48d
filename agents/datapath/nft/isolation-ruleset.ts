// Network isolation as one nftables table, rendered as a pure function.
//
// Every weft network is a bridge `wb-*` in the agent's namespace, holding the
// network's gateway address. When that namespace forwards IP, a workload could
// reach another network through the host. The table drops forwarded packets
// that enter on one weft bridge and leave on a different one (what Docker's
// isolation chains do), and leaves everything else alone:
//
//   table inet weft-isolation {
//     set same-bridge { type ifname . ifname; elements = { "wb-a" . "wb-a", ... } }
//     chain forward {
//       type filter hook forward priority filter - 10; policy accept;
//       iifname "wb-*" oifname "wb-*" iifname . oifname != @same-bridge counter drop
//     }
//   }
//
// nftables cannot compare two packet fields with each other (`iifname !=
// oifname` does not exist: cmp takes an immediate), so "same bridge" is a set
// of (bridge, bridge) pairs: one hash lookup per packet however many networks
// there are. Bridged traffic seen through br_netfilter has iifname == oifname
// == the bridge, is in the set, and passes. A bridge missing from the set is
// isolated from itself too (fail closed): callers put a bridge in the set
// before or while creating it, and take it out only after deleting it.
//
// Family inet: one table covers IPv4 and IPv6.
import { BRIDGE_PREFIX, HOST_NFT_TABLES, IFNAME_MAX } from '../../../model/kernel-names.js';
import {
  deleteTableCommands,
  isChainObject,
  isRuleObject,
  isSetObject,
  isTableObject,
  type NftDocument,
  type NftListObject,
  type NftRule,
  type NftSet,
  type NftSetElem,
  type NftTable,
} from '../../../model/nft-json.js';
import { DatapathError } from '../errors.js';

export const ISOLATION_FAMILY = HOST_NFT_TABLES.isolation.family;
/** One table per purpose, prefixed `weft-` so an agent can tell its own tables from anyone else's. */
export const ISOLATION_TABLE = HOST_NFT_TABLES.isolation.name;
const ISOLATION_CHAIN = 'forward';
const SAME_BRIDGE_SET = 'same-bridge';
/** Marks the drop rule, so listings (and humans) can find it. */
export const ISOLATION_COMMENT = 'weft: drop forwarding between networks';
/**
 * filter - 10. A drop is final in whichever base chain issues it, so the
 * order among chains on the hook does not decide whether isolation holds;
 * running just before the filter-priority chains (iptables-nft's FORWARD
 * with Docker's and firewalld's/ufw's rules, other nft filter tables) means
 * they never see, count, log or queue to userspace packets we drop anyway,
 * and an admin can still add a chain at an earlier priority to act first.
 * Not down at mangle/raw priorities: nothing there needs to run after us.
 */
export const ISOLATION_PRIORITY = -10;

const WILDCARD = `${BRIDGE_PREFIX}*`;
// Conservative on purpose: weft's bridge names are `wb-` + hex. '*' and '\'
// would change meaning inside an nft ifname string.
const SAFE_IFNAME = /^[A-Za-z0-9_.-]+$/;

function invalidBridge(name: string, why: string): DatapathError {
  return new DatapathError('isolate', `bridge ${JSON.stringify(name)}`, 'EINVAL', { cause: new RangeError(why) });
}

/**
 * Validate and normalise a bridge list: weft bridge names only, sorted,
 * duplicates removed. Done before rendering because nft 1.0.6's JSON errors
 * carry no location. Throws DatapathError EINVAL naming the bad bridge.
 */
export function parseBridgeSet(bridges: readonly string[]): string[] {
  for (const name of bridges) {
    if (!name.startsWith(BRIDGE_PREFIX) || name.length === BRIDGE_PREFIX.length) {
      throw invalidBridge(name, `not a weft bridge name (prefix "${BRIDGE_PREFIX}")`);
    }
    if (Buffer.byteLength(name) > IFNAME_MAX) throw invalidBridge(name, `longer than ${IFNAME_MAX} bytes`);
    if (!SAFE_IFNAME.test(name)) throw invalidBridge(name, 'characters outside [A-Za-z0-9_.-]');
  }
  return [...new Set(bridges)].sort();
}

function table(): NftTable {
  return { family: ISOLATION_FAMILY, name: ISOLATION_TABLE };
}

/**
 * The whole isolation table for `bridges`, as one document that replaces
 * whatever table of that name exists, in one transaction.
 *
 * Delete-and-recreate rather than `flush table`: in nft 1.0.6 `flush table`
 * removes rules but keeps set elements (a removed bridge would linger in
 * @same-bridge), and re-adding a chain whose hook/priority/policy changed
 * (an older weft, an admin's edit) fails instead of replacing it. Inside one
 * transaction packets see the old table or the new one, never neither.
 * Cost: the drop counter restarts at 0 whenever the bridge set changes.
 */
export function renderIsolation(bridges: readonly string[]): NftDocument {
  const names = parseBridgeSet(bridges);
  const set: NftSet = { ...base(), name: SAME_BRIDGE_SET, type: ['ifname', 'ifname'] };
  if (names.length > 0) set.elem = names.map((b): NftSetElem => ({ concat: [b, b] }));
  const rule: NftRule = {
    ...base(),
    chain: ISOLATION_CHAIN,
    comment: ISOLATION_COMMENT,
    expr: [
      // The two prefix matches keep non-weft interfaces out of the set lookup
      // entirely: they are not ours to judge.
      { match: { op: '==', left: { meta: { key: 'iifname' } }, right: WILDCARD } },
      { match: { op: '==', left: { meta: { key: 'oifname' } }, right: WILDCARD } },
      {
        match: {
          op: '!=',
          left: { concat: [{ meta: { key: 'iifname' } }, { meta: { key: 'oifname' } }] },
          right: `@${SAME_BRIDGE_SET}`,
        },
      },
      { counter: null },
      { drop: null },
    ],
  };
  return {
    nftables: [
      { metainfo: { json_schema_version: 1 } },
      ...deleteTableCommands(ISOLATION_FAMILY, ISOLATION_TABLE),
      { add: { table: table() } },
      {
        add: {
          chain: {
            ...base(),
            name: ISOLATION_CHAIN,
            type: 'filter',
            hook: 'forward',
            prio: ISOLATION_PRIORITY,
            policy: 'accept',
          },
        },
      },
      { add: { set } },
      { add: { rule } },
    ],
  };
}

function base(): { family: typeof ISOLATION_FAMILY; table: string } {
  return { family: ISOLATION_FAMILY, table: ISOLATION_TABLE };
}

/** What an isolation table in the kernel says, read back from `nft -j list table`. */
export interface IsolationState {
  /** bridges in @same-bridge, sorted */
  bridges: string[];
  /** the drop rule's counter; undefined when the rule is missing */
  drops?: { packets: number; bytes: number };
  /** the forward chain's priority; undefined when the chain is missing */
  priority?: number;
}

/** Decode a listing of the isolation table; undefined when it holds no table. */
export function parseIsolation(listing: readonly NftListObject[]): IsolationState | undefined {
  if (!listing.some((o) => isTableObject(o) && o.table.name === ISOLATION_TABLE)) return undefined;
  const state: IsolationState = { bridges: [] };
  for (const o of listing) {
    if (isSetObject(o) && o.set.name === SAME_BRIDGE_SET) {
      for (const e of o.set.elem ?? []) {
        // Only pairs of one bridge belong here; anything else is not ours and is ignored.
        if (typeof e === 'object' && e.concat.length === 2 && e.concat[0] === e.concat[1] && typeof e.concat[0] === 'string') {
          state.bridges.push(e.concat[0]);
        }
      }
    } else if (isChainObject(o) && o.chain.name === ISOLATION_CHAIN) {
      state.priority = o.chain.prio;
    } else if (isRuleObject(o) && o.rule.chain === ISOLATION_CHAIN && o.rule.comment === ISOLATION_COMMENT) {
      for (const s of o.rule.expr) {
        if ('counter' in s && typeof s.counter === 'object' && s.counter !== null) state.drops = { packets: s.counter.packets, bytes: s.counter.bytes };
      }
    }
  }
  state.bridges.sort();
  return state;
}
