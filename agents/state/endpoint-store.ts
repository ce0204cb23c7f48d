// The agent's local truth, in SQLite under stateDir: the endpoints it made,
// the last plan it got (so local attaches work while the controller is
// unreachable), its address blocks and a few remembered facts (the VTEP
// address it last learned). A record is written only once the
// kernel objects exist, so a crash leaves at worst kernel objects without a
// record, which the reconciler sweeps. The plan is written behind (see
// savePlan): serialising one of many rules must not delay its kernel update.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { inject, injectable, optional } from 'inversify';
import type { EndpointReport, HostPlan, PlanBlock } from '../../model/agent-protocol.js';
import { WeftError, errorMessage } from '../../model/errors.js';
import { AGENT_CONFIG, AGENT_LOGGER, type AgentConfig, type AgentLogger } from '../agent-config.js';

export type EndpointState = 'attached' | 'deleting';

/** A saved plan is written at the latest this long after savePlan (normally sooner: see flushPlan). */
const PLAN_WRITE_DELAY_MS = 2_000;

export interface EndpointRecord extends EndpointReport {
  state: EndpointState;
  /**
   * Who asked for it: '' for the agent RPC (`weft run`), `cni:<config name>`
   * for a CNI runtime. A CNI GC only collects attachments made through a
   * config of its name — runtimes that share one config directory share the
   * name too (the spec's answer is `disableGC` in such a conflist).
   */
  origin?: string;
  /**
   * Identity of the namespace attached to (nsfs device:inode, see
   * DatapathFactory.netnsId): tells the namespace's end from its path being
   * reused by another one. Absent when unknown.
   */
  netnsId?: string;
  /**
   * Where the agent looks for the namespace when `netns` is the caller's
   * path, not its own: a namespace handed over as a descriptor (attach
   * netnsFd) is checked through the caller's root, /proc/PID/root + netns,
   * which resolves in the caller's mount namespace and is gone with the
   * caller. Absent: at `netns`.
   */
  netnsCheckAt?: string;
  prefixLength: number;
  gateway: string;
  /** With ip6 (a dual-stack network): subnet6's prefix length and the IPv6 default gateway. */
  prefixLength6?: number;
  gateway6?: string;
  mtu: number;
}

interface Row {
  name: string;
  network: string;
  container_id: string;
  ifname: string;
  ip: string;
  mac: string;
  host_ifname: string;
  netns: string;
  labels: string;
  state: string;
  prefix_length: number;
  gateway: string;
  mtu: number;
  origin: string;
  netns_id: string;
  netns_check_at: string;
  ip6: string;
  prefix_length6: number;
  gateway6: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS endpoints (
  name TEXT PRIMARY KEY,
  network TEXT NOT NULL,
  container_id TEXT NOT NULL,
  ifname TEXT NOT NULL,
  ip TEXT NOT NULL,
  mac TEXT NOT NULL,
  host_ifname TEXT NOT NULL UNIQUE,
  netns TEXT NOT NULL,
  labels TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('attached', 'deleting')),
  prefix_length INTEGER NOT NULL,
  gateway TEXT NOT NULL,
  mtu INTEGER NOT NULL,
  origin TEXT NOT NULL DEFAULT '',
  netns_id TEXT NOT NULL DEFAULT '',
  netns_check_at TEXT NOT NULL DEFAULT '',
  ip6 TEXT NOT NULL DEFAULT '',
  prefix_length6 INTEGER NOT NULL DEFAULT 0,
  gateway6 TEXT NOT NULL DEFAULT '',
  UNIQUE (container_id, ifname)
);
CREATE INDEX IF NOT EXISTS endpoints_network ON endpoints (network, ip);
CREATE TABLE IF NOT EXISTS plan (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (network TEXT NOT NULL, cidr TEXT NOT NULL, PRIMARY KEY (network, cidr));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

function toRecord(r: Row): EndpointRecord {
  return {
    name: r.name,
    network: r.network,
    containerId: r.container_id,
    ifname: r.ifname,
    ip: r.ip,
    mac: r.mac,
    hostIfname: r.host_ifname,
    netns: r.netns,
    labels: JSON.parse(r.labels) as Record<string, string>,
    state: r.state === 'deleting' ? 'deleting' : 'attached',
    prefixLength: r.prefix_length,
    gateway: r.gateway,
    mtu: r.mtu,
    origin: r.origin,
    ...(r.netns_id === '' ? {} : { netnsId: r.netns_id }),
    ...(r.netns_check_at === '' ? {} : { netnsCheckAt: r.netns_check_at }),
    ...(r.ip6 === '' ? {} : { ip6: r.ip6, prefixLength6: r.prefix_length6, gateway6: r.gateway6 }),
  };
}

export function toReport(r: EndpointRecord): EndpointReport {
  return {
    name: r.name,
    network: r.network,
    containerId: r.containerId,
    ifname: r.ifname,
    ip: r.ip,
    ...(r.ip6 === undefined ? {} : { ip6: r.ip6 }),
    mac: r.mac,
    hostIfname: r.hostIfname,
    netns: r.netns,
    labels: r.labels,
  };
}

@injectable()
export class EndpointStore {
  private readonly db: Database.Database;
  private readonly stmts;
  /** Saved, not yet written (see savePlan). */
  private pendingPlan: HostPlan | undefined;
  private planTimer: NodeJS.Timeout | undefined;

  constructor(
    @inject(AGENT_CONFIG) config: Pick<AgentConfig, 'stateDir'>,
    // Optional so a store built by hand (tests) works without one: only a late plan write's failure is logged.
    @inject(AGENT_LOGGER) @optional() private readonly log?: AgentLogger,
  ) {
    const file = join(config.stateDir, 'agent.db');
    try {
      mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a power cut may lose the last commits but never
      // corrupts; the reconciler re-derives anything lost from the kernel.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 2000');
      this.db.exec(SCHEMA);
      // A state file written before endpoints recorded their namespace's
      // identity, or where to check it, or their IPv6 address: the columns
      // are added, its records keep working (no identity: only a missing
      // namespace path counts as gone; no check path: checked at netns; no
      // IPv6 address: IPv4 only, as they were made).
      const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(endpoints)').all();
      const added: Array<[string, string]> = [
        ['netns_id', "TEXT NOT NULL DEFAULT ''"],
        ['netns_check_at', "TEXT NOT NULL DEFAULT ''"],
        ['ip6', "TEXT NOT NULL DEFAULT ''"],
        ['prefix_length6', 'INTEGER NOT NULL DEFAULT 0'],
        ['gateway6', "TEXT NOT NULL DEFAULT ''"],
      ];
      for (const [column, type] of added) {
        if (!columns.some((c) => c.name === column)) this.db.exec(`ALTER TABLE endpoints ADD COLUMN ${column} ${type}`);
      }
    } catch (e: unknown) {
      throw new WeftError('Internal', `open agent state ${file}: ${errorMessage(e)}`, { cause: e });
    }
    const db = this.db;
    this.stmts = {
      // Upsert on the name only: OR REPLACE would silently delete another
      // endpoint that holds the same container interface or host veth.
      put: db.prepare(`INSERT INTO endpoints
        (name, network, container_id, ifname, ip, mac, host_ifname, netns, labels, state, prefix_length, gateway, mtu, origin, netns_id, netns_check_at, ip6, prefix_length6, gateway6)
        VALUES (@name, @network, @container_id, @ifname, @ip, @mac, @host_ifname, @netns, @labels, @state, @prefix_length, @gateway, @mtu, @origin, @netns_id, @netns_check_at, @ip6, @prefix_length6, @gateway6)
        ON CONFLICT (name) DO UPDATE SET network = excluded.network, container_id = excluded.container_id, ifname = excluded.ifname,
          ip = excluded.ip, mac = excluded.mac, host_ifname = excluded.host_ifname, netns = excluded.netns, labels = excluded.labels,
          state = excluded.state, prefix_length = excluded.prefix_length, gateway = excluded.gateway, mtu = excluded.mtu,
          origin = excluded.origin, netns_id = excluded.netns_id, netns_check_at = excluded.netns_check_at,
          ip6 = excluded.ip6, prefix_length6 = excluded.prefix_length6, gateway6 = excluded.gateway6`),
      get: db.prepare<[string], Row>('SELECT * FROM endpoints WHERE name = ?'),
      byContainer: db.prepare<[string], Row>('SELECT * FROM endpoints WHERE container_id = ? ORDER BY ifname'),
      byHostIfname: db.prepare<[string], Row>('SELECT * FROM endpoints WHERE host_ifname = ?'),
      all: db.prepare<[], Row>('SELECT * FROM endpoints ORDER BY name'),
      ownerOf: db.prepare<[string, string], { name: string }>('SELECT name FROM endpoints WHERE network = ? AND ip = ?'),
      setState: db.prepare<[string, string]>('UPDATE endpoints SET state = ? WHERE name = ?'),
      remove: db.prepare<[string]>('DELETE FROM endpoints WHERE name = ?'),
      count: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM endpoints WHERE state = 'attached'"),
      anyAttachedIn: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM endpoints WHERE network = ? AND state = 'attached' LIMIT 1"),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      putMeta: db.prepare<[string, string]>('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      getPlan: db.prepare<[], { body: string }>('SELECT body FROM plan WHERE id = 1'),
      putPlan: db.prepare<[number, string]>('INSERT OR REPLACE INTO plan (id, revision, body) VALUES (1, ?, ?)'),
      clearBlocks: db.prepare('DELETE FROM blocks'),
      putBlock: db.prepare<[string, string]>('INSERT OR IGNORE INTO blocks (network, cidr) VALUES (?, ?)'),
      blocks: db.prepare<[], PlanBlock>('SELECT network, cidr FROM blocks ORDER BY network, cidr'),
    };
  }

  put(r: EndpointRecord): void {
    this.stmts.put.run({
      name: r.name,
      network: r.network,
      container_id: r.containerId,
      ifname: r.ifname,
      ip: r.ip,
      mac: r.mac,
      host_ifname: r.hostIfname,
      netns: r.netns,
      labels: JSON.stringify(r.labels),
      state: r.state,
      prefix_length: r.prefixLength,
      gateway: r.gateway,
      mtu: r.mtu,
      origin: r.origin ?? '',
      netns_id: r.netnsId ?? '',
      netns_check_at: r.netnsCheckAt ?? '',
      ip6: r.ip6 ?? '',
      prefix_length6: r.ip6 === undefined ? 0 : (r.prefixLength6 ?? 0),
      gateway6: r.ip6 === undefined ? '' : (r.gateway6 ?? ''),
    });
  }

  get(name: string): EndpointRecord | undefined {
    const row = this.stmts.get.get(name);
    return row ? toRecord(row) : undefined;
  }

  byContainer(containerId: string): EndpointRecord[] {
    return this.stmts.byContainer.all(containerId).map(toRecord);
  }

  byHostIfname(hostIfname: string): EndpointRecord | undefined {
    const row = this.stmts.byHostIfname.get(hostIfname);
    return row ? toRecord(row) : undefined;
  }

  list(filter: { network?: string; state?: EndpointState } = {}): EndpointRecord[] {
    return this.stmts.all
      .all()
      .map(toRecord)
      .filter((r) => (filter.network === undefined || r.network === filter.network) && (filter.state === undefined || r.state === filter.state));
  }

  countAttached(): number {
    return this.stmts.count.get()?.n ?? 0;
  }

  /** True when the network has an attached endpoint here: the host carries it. */
  hasAttached(network: string): boolean {
    return this.stmts.anyAttachedIn.get(network) !== undefined;
  }

  ownerOf(network: string, ip: string): string | undefined {
    return this.stmts.ownerOf.get(network, ip)?.name;
  }

  setState(name: string, state: EndpointState): void {
    this.stmts.setState.run(state, name);
  }

  remove(name: string): void {
    this.stmts.remove.run(name);
  }

  loadPlan(): HostPlan | undefined {
    this.flushPlan();
    const row = this.stmts.getPlan.get();
    if (!row) return undefined;
    try {
      const plan = JSON.parse(row.body) as unknown;
      // A damaged cache, or one of another layout, is no plan: wait for the controller.
      return isHostPlanShaped(plan) ? plan : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Keep the plan and its blocks (written in one transaction so they never
   * disagree). Written behind: a plan with thousands of firewall rules
   * takes tens of milliseconds to serialise, and the update it carries must
   * reach the kernel first. The write happens at the next flushPlan() (the
   * reconciler calls it once it has applied the plan), before this store
   * reads a plan or blocks, on close(), and at the latest
   * PLAN_WRITE_DELAY_MS after the save; only the latest plan is written.
   * The stored plan is only the fallback for starting without the
   * controller: a crash before the write leaves the previous one.
   */
  savePlan(plan: HostPlan): void {
    this.pendingPlan = plan;
    if (this.planTimer) return;
    this.planTimer = setTimeout(() => {
      this.planTimer = undefined;
      try {
        this.flushPlan();
      } catch (e: unknown) {
        // Kept pending: the next flushPlan tries again (and its caller hears of a failure).
        this.log?.error({ err: errorMessage(e) }, 'cannot write the plan to the agent state (the fallback for starting without the controller)');
      }
    }, PLAN_WRITE_DELAY_MS);
    this.planTimer.unref();
  }

  /** Write the plan saved last, if it is not written yet. */
  flushPlan(): void {
    clearTimeout(this.planTimer);
    this.planTimer = undefined;
    const plan = this.pendingPlan;
    if (!plan) return;
    this.db.transaction(() => {
      this.stmts.putPlan.run(plan.revision, JSON.stringify(plan));
      this.stmts.clearBlocks.run();
      for (const b of plan.blocks) this.stmts.putBlock.run(b.network, b.cidr);
    })();
    this.pendingPlan = undefined;
  }

  getMeta(key: string): string | undefined {
    return this.stmts.getMeta.get(key)?.value;
  }

  putMeta(key: string, value: string): void {
    this.stmts.putMeta.run(key, value);
  }

  blocks(): PlanBlock[] {
    this.flushPlan();
    return this.stmts.blocks.all();
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.flushPlan();
    } catch (e: unknown) {
      this.log?.error({ err: errorMessage(e) }, 'cannot write the plan to the agent state before closing it');
    }
    this.db.close();
  }
}

const PLAN_LISTS = ['networks', 'blocks', 'reservations', 'flood', 'remoteEndpoints', 'firewallPolicies', 'addressSets', 'vnfs', 'networkRoutes'] as const;

function isHostPlanShaped(v: unknown): v is HostPlan {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.host === 'string' && typeof p.revision === 'number' && PLAN_LISTS.every((k) => Array.isArray(p[k]));
}
