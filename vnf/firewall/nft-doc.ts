// The part of nftables' JSON schema (libnftables-json(5), json_schema_version
// 1) the firewall VNF renders. vnf/ imports only model/, so it cannot use
// agents/datapath/nft/nft-json.ts; these types are a structural subset of
// those, spelled the same way, so a document rendered here is an
// NftDocument the agent's NftRunner applies as it is.

export type VnfNftKeyType = 'ipv4_addr' | 'inet_proto' | 'inet_service';

export type VnfNftExpr =
  | string
  | number
  | { meta: { key: 'l4proto' | 'iifname' } }
  | { payload: { protocol: 'ip' | 'th'; field: string } }
  | { ct: { key: 'state' | 'direction' } }
  | { prefix: { addr: string; len: number } }
  | { range: [string | number, string | number] }
  | { set: VnfNftExpr[] }
  | { concat: VnfNftExpr[] };

export type VnfNftVerdict = { accept: null } | { drop: null } | { return: null } | { jump: { target: string } } | { goto: { target: string } };

export type VnfNftStatement =
  | { match: { op: '==' | '!=' | 'in'; left: VnfNftExpr; right: VnfNftExpr } }
  | { counter: null }
  | VnfNftVerdict
  | { vmap: { key: VnfNftExpr; data: string } }
  | { log: { prefix?: string; group?: number } }
  | { reject: { type?: 'tcp reset' | 'icmpx'; expr?: string } | null }
  | { notrack: null };

export type VnfNftFamily = 'inet' | 'bridge';

interface InTable {
  family: VnfNftFamily;
  table: string;
}

export interface VnfNftChain extends InTable {
  name: string;
  type?: 'filter';
  hook?: 'forward' | 'prerouting';
  prio?: number;
  policy?: 'accept' | 'drop';
}

export interface VnfNftMap extends InTable {
  name: string;
  type: VnfNftKeyType[];
  map: 'verdict';
  flags?: Array<'interval'>;
  stmt?: Array<{ counter: null }>;
  elem?: Array<[VnfNftExpr, VnfNftVerdict]>;
}

export interface VnfNftRule extends InTable {
  chain: string;
  comment?: string;
  expr: VnfNftStatement[];
}

export type VnfNftObject = { table: { family: VnfNftFamily; name: string } } | { chain: VnfNftChain } | { map: VnfNftMap } | { rule: VnfNftRule };

export type VnfNftCommand = { add: VnfNftObject } | { delete: VnfNftObject };

export interface VnfNftDocument {
  nftables: Array<{ metainfo: { json_schema_version: number } } | VnfNftCommand>;
}
