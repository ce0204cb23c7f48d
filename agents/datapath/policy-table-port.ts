// The agent's ports for the two firewall tables: FirewallPolicy enforcement
// (inet weft-firewall) and anti-spoofing on endpoint ports (bridge
// weft-guard). Implementations: NftPolicyTable and NftGuard (nft/, the real
// kernel). Absent in unit tests that inject a fake datapath: the agent then
// enforces no policy, as with ISOLATION_TABLE.
import type { ElementCounter, PolicyModel } from './policy-model.js';

export interface PolicyTable {
  /** Replace whatever table is there with `model`, in one transaction. */
  replace(model: PolicyModel): Promise<void>;
  /** Turn the table from `from` (what it holds) into `to`, in one transaction. */
  update(from: PolicyModel, to: PolicyModel): Promise<void>;
  /** Every counter of the table `model` describes, as the kernel has them now. */
  counters(model: PolicyModel): Promise<ElementCounter[]>;
  /** Whether a table of ours is in the kernel (left by an earlier agent). */
  exists(): Promise<boolean>;
  /**
   * Undefined when bridged traffic reaches the table (br_netfilter on in the
   * namespace; turned back on if someone turned it off), else why not.
   */
  bridgeFilterProblem(): Promise<string | undefined>;
}

/** Why the guard dropped a frame (its counters in the guard table are named so). */
export const SPOOF_REASONS = ['ip', 'mac', 'arp', 'ip6', 'other'] as const;
export type SpoofReason = (typeof SPOOF_REASONS)[number];

/** An endpoint port and the only MAC and addresses it may send from. */
export interface GuardedPort {
  /** host-side interface (wv-*) */
  ifname: string;
  mac: string;
  ip: string;
  /** on a dual-stack network; without it the port sends no IPv6 */
  ip6?: string;
}

export function guardPortKey(p: GuardedPort): string {
  return `${p.ifname}|${p.mac.toLowerCase()}|${p.ip}|${p.ip6 ?? ''}`;
}

/** Host interfaces to add to and remove from one of the guard's interface sets. */
export interface IfnameChange {
  add: readonly string[];
  remove: readonly string[];
}

export interface PortGuard {
  /**
   * Replace the whole guard table: exactly `ports` may send; `policed` ports
   * get no IPv4 broadcast/multicast; `noIp6` ports (a policy applies to
   * them, and policies judge IPv4 only) neither send nor get IPv6.
   */
  replace(ports: readonly GuardedPort[], policed: readonly string[], noIp6: readonly string[]): Promise<void>;
  /** Element changes in one transaction. */
  update(add: readonly GuardedPort[], remove: readonly GuardedPort[], policed?: IfnameChange, noIp6?: IfnameChange): Promise<void>;
  spoofDrops(): Promise<Record<SpoofReason, number>>;
}

export const POLICY_TABLE_PORT = Symbol.for('weft.PolicyTable');
export const PORT_GUARD = Symbol.for('weft.PortGuard');
