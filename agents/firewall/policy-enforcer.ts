// Keeps the host's policy table (policy-ruleset.ts) in line with the plan's
// firewall policies and reports, per policy, what this host enforces.
//
// Fail closed: nothing here ever deletes the table. With no plan yet (agent
// restarted, controller away) the table a previous agent left stays in force
// untouched; the first sync of this agent's life replaces it whole in one
// transaction (no moment without rules), later syncs apply element diffs. A
// failed write leaves the kernel as it was (nft transactions are all or
// nothing) and makes the next sync replace the table whole.
//
// Counters: the kernel counts per map element and per default rule, and an
// element deleted by a diff (a peer left a set, a verdict changed) or a
// table replaced whole takes its count with it. The enforcer carries, per
// rule, what it last read of every counter a change drops, so a rule's
// count never goes backwards (packets between the last read and the change
// are not seen). A fresh agent starts from zero.
import { inject, injectable, optional } from 'inversify';
import type { FirewallPolicyReport, HostPlan } from '../../model/agent-protocol.js';
import { errorMessage } from '../../model/errors.js';
import type { RuleCounter } from '../../model/firewall.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { POLICY_TABLE_PORT, type PolicyTable } from '../datapath/policy-table-port.js';
import { countersDropped, modelRules, ruleKey, type ElementCounter, type PolicyModel, type RuleRef } from '../datapath/policy-model.js';
import { CompileCache, compilePolicies } from './policy-compiler.js';

interface Count {
  ref: RuleRef;
  packets: number;
  bytes: number;
}

export interface EnforcerState {
  /** generation of each policy in the table */
  generations: Map<string, number>;
  /** local endpoints per policy */
  endpoints: Map<string, number>;
}

@injectable()
export class PolicyEnforcer {
  private applied: PolicyModel | undefined;
  /** the last compile's packings: a rule change repacks only its block */
  private readonly compiled = new CompileCache();
  private state: EnforcerState = { generations: new Map(), endpoints: new Map() };
  private problem: string | undefined;
  /** what else keeps the policies from being enforced as written (bridge filtering off, guard table failing) */
  private bridgeProblem: string | undefined;
  private guardProblem: string | undefined;
  private counters = new Map<string, RuleCounter[]>();
  /** the last reading of every counter in the table, by ElementCounter key */
  private lastRead = new Map<string, ElementCounter>();
  /** per rule (ruleKey): counts of counters a change dropped */
  private carried = new Map<string, Count>();
  private queue: Promise<unknown> = Promise.resolve();
  /** table writes queued so far, and those queued or running now (see refreshCounters) */
  private writes = 0;
  private writing = 0;
  /** the counter reading in progress, which a second caller shares */
  private reading: Promise<boolean> | undefined;

  constructor(
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(POLICY_TABLE_PORT) @optional() private readonly table?: PolicyTable,
  ) {}

  get enabled(): boolean {
    return this.table !== undefined;
  }

  /** The model the kernel holds, when known (tests, benchmarks). */
  current(): PolicyModel | undefined {
    return this.applied;
  }

  sync(plan: HostPlan): Promise<void> {
    return this.serial(async (table) => {
      const sets = new Map(plan.addressSets.map((s) => [s.name, s.addresses]));
      let model: PolicyModel;
      try {
        model = compilePolicies(plan.firewallPolicies, sets, this.compiled);
      } catch (e: unknown) {
        // A plan we cannot compile changes nothing: the rules in force stay.
        this.problem = `cannot compile the firewall policies: ${errorMessage(e)}`;
        this.log.error({ err: errorMessage(e) }, 'cannot compile the firewall policies; the table in force is kept');
        return;
      }
      this.bridgeProblem = await table.bridgeFilterProblem();
      try {
        const dropped = this.applied === undefined ? [...this.lastRead.keys()] : countersDropped(this.applied, model);
        if (this.applied === undefined) await table.replace(model);
        else await table.update(this.applied, model);
        this.carry(dropped);
        this.applied = model;
        this.problem = undefined;
      } catch (e: unknown) {
        this.applied = undefined;
        this.problem = `nftables refused the policy table: ${errorMessage(e)}`;
        this.log.error({ err: errorMessage(e) }, 'cannot apply the firewall policies; the table in force is kept');
        return;
      }
      this.state = {
        generations: new Map(plan.firewallPolicies.map((p) => [p.name, p.generation])),
        endpoints: new Map(plan.firewallPolicies.map((p) => [p.name, sets.get(p.appliesTo)?.length ?? 0])),
      };
    });
  }

  /**
   * Read the kernel's counters; true when any changed since the last read.
   * After the writes queued before it, but outside their queue: listing
   * thousands of counters takes long (seconds on a busy host), and a policy
   * change must not wait for it. A reading during which a write was queued
   * or running may not match the model it is read against: it is dropped
   * (false), and the next one counts.
   */
  refreshCounters(): Promise<boolean> {
    const table = this.table;
    if (!table) return Promise.resolve(false);
    this.reading ??= this.queue
      .then(() => this.readCounters(table))
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private async readCounters(table: PolicyTable): Promise<boolean> {
    const model = this.applied;
    const writes = this.writes;
    if (!model || this.writing > 0) return false;
    const read = await table.counters(model);
    if (this.writes !== writes || this.writing > 0) return false;
    this.lastRead = new Map(read.map((c) => [c.key, c]));
    const sums = new Map<string, Count>(modelRules(model).map((ref) => [ruleKey(ref), { ref, packets: 0, bytes: 0 }]));
    // A rule no longer in the model has no count worth keeping.
    for (const k of [...this.carried.keys()]) if (!sums.has(k)) this.carried.delete(k);
    for (const c of [...read, ...this.carried.values()]) {
      const sum = sums.get(ruleKey(c.ref));
      if (sum) {
        sum.packets += c.packets;
        sum.bytes += c.bytes;
      }
    }
    const next = new Map<string, RuleCounter[]>();
    for (const { ref, packets, bytes } of sums.values()) {
      const list = next.get(ref.policy) ?? [];
      list.push({ direction: ref.direction, rule: ref.rule, packets, bytes });
      next.set(ref.policy, list);
    }
    const changed = JSON.stringify([...next]) !== JSON.stringify([...this.counters]);
    this.counters = next;
    return changed;
  }

  private carry(keys: readonly string[]): void {
    for (const key of keys) {
      const c = this.lastRead.get(key);
      if (!c) continue;
      this.lastRead.delete(key);
      const k = ruleKey(c.ref);
      const sum = this.carried.get(k);
      if (sum) {
        sum.packets += c.packets;
        sum.bytes += c.bytes;
      } else {
        this.carried.set(k, { ref: c.ref, packets: c.packets, bytes: c.bytes });
      }
    }
  }

  /** Endpoint addresses that have an ingress policy in the table. */
  ingressAddresses(): Set<string> {
    return new Set(this.applied?.entries.ingress.keys() ?? []);
  }

  /** Addresses of this host's endpoints that any policy applies to (ingress or egress); undefined while the table in force is unknown (not applied since start, or refused). */
  policedAddresses(): Set<string> | undefined {
    if (this.applied === undefined) return undefined;
    return new Set([...this.applied.entries.ingress.keys(), ...this.applied.entries.egress.keys()]);
  }

  setGuardProblem(problem: string | undefined): void {
    this.guardProblem = problem === undefined ? undefined : `the anti-spoofing table cannot be written: ${problem}`;
  }

  /** What this host enforces, per policy of `plan`. */
  reports(plan: HostPlan): Record<string, FirewallPolicyReport> {
    const out: Record<string, FirewallPolicyReport> = {};
    for (const p of plan.firewallPolicies) {
      const generation = this.state.generations.get(p.name);
      const problem = this.problem ?? this.bridgeProblem ?? this.guardProblem;
      const ready = problem === undefined && generation === p.generation;
      const r: FirewallPolicyReport = {
        generation: generation ?? 0,
        ready,
        endpoints: this.state.endpoints.get(p.name) ?? 0,
        counters: this.counters.get(p.name) ?? [],
      };
      if (!this.enabled) r.message = 'this agent enforces no policy (no nftables datapath)';
      else if (problem !== undefined) r.message = problem;
      out[p.name] = r;
    }
    return out;
  }

  /** Table writes run one at a time, in order; `writes` and `writing` tell a counter reading about them. */
  private serial(step: (table: PolicyTable) => Promise<void>): Promise<void> {
    const table = this.table;
    if (!table) return Promise.resolve();
    this.writes++;
    this.writing++;
    const next = this.queue
      .then(
        () => step(table),
        () => step(table),
      )
      .finally(() => {
        this.writing--;
      });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
