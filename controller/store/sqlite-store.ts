// SqliteStore: the embedded default store (better-sqlite3 12.x, WAL mode).
// Synchronous by design: a whole transaction runs without yielding, so no
// other request can interleave between a check and the write it guards.
import Database from 'better-sqlite3';
import type { AnyResource, Endpoint, Kind } from '../../model/kinds.js';
import { stampResource } from './resource-stamp.js';
import type { BlockRow, EndpointFilter, ReservationRow, ResourceOf, Store, StoreReader, StoreTx, WriteAction } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('schema', 1);
CREATE TABLE IF NOT EXISTS resources (
  kind TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, json TEXT NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vnis (network TEXT PRIMARY KEY, vni INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
  network TEXT NOT NULL, cidr TEXT NOT NULL, host TEXT NOT NULL,
  PRIMARY KEY (network, cidr)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_by_host ON blocks (host);
CREATE TABLE IF NOT EXISTS reservations (
  network TEXT NOT NULL, ip TEXT NOT NULL, owner TEXT NOT NULL, host TEXT, source TEXT NOT NULL, ref TEXT,
  pending INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (network, ip)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS endpoints (
  name TEXT PRIMARY KEY, network TEXT NOT NULL, host TEXT NOT NULL, ip TEXT NOT NULL,
  revision INTEGER NOT NULL, json TEXT NOT NULL,
  UNIQUE (network, ip)
);
CREATE INDEX IF NOT EXISTS endpoints_by_host ON endpoints (host);
`;

interface ReservationDbRow {
  network: string;
  ip: string;
  owner: string;
  host: string | null;
  source: string;
  ref: string | null;
  pending: number;
}

function toReservation(row: ReservationDbRow): ReservationRow {
  const r: ReservationRow = { network: row.network, ip: row.ip, owner: row.owner, source: row.source === 'declared' ? 'declared' : 'agent' };
  if (row.host !== null) r.host = row.host;
  if (row.ref !== null) r.ref = row.ref;
  if (row.pending !== 0) r.pending = true;
  return r;
}

const byNetworkHost = (f: { network?: string; host?: string }) => ({ network: f.network ?? null, host: f.host ?? null });

/** Thrown inside simulate() to roll the transaction back while carrying the result out. */
class Rollback<T> {
  constructor(readonly value: T) {}
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly listeners = new Set<(revision: number) => void>();
  private readonly tx: SqliteTx;
  private readonly nextRevision: Database.Statement;
  private txRevision: number | undefined;
  private inWrite = false;

  /** path: a file (created if missing) or ':memory:'. */
  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // A store file whose reservations table has no pending column yet gets it (the default: not pending).
    const columns = this.db.pragma('table_info(reservations)') as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'pending')) this.db.exec('ALTER TABLE reservations ADD COLUMN pending INTEGER NOT NULL DEFAULT 0');
    this.nextRevision = this.db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'revision' RETURNING value");
    this.tx = new SqliteTx(this.db, () => this.bump());
  }

  revision(): number {
    return this.tx.revision();
  }

  read<T>(fn: (r: StoreReader) => T): T {
    return this.db.transaction(() => fn(this.tx)).deferred();
  }

  write<T>(fn: (tx: StoreTx) => T): T {
    const result = this.runWrite(fn);
    const revision = this.txRevision;
    this.txRevision = undefined;
    if (revision !== undefined) this.emit(revision);
    return result;
  }

  simulate<T>(fn: (tx: StoreTx) => T): T {
    try {
      this.runWrite((tx) => {
        throw new Rollback(fn(tx));
      });
    } catch (e: unknown) {
      if (e instanceof Rollback) return e.value as T;
      throw e;
    } finally {
      this.txRevision = undefined;
    }
    throw new Error('simulate: transaction did not roll back');
  }

  onCommit(listener: (revision: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }

  private runWrite<T>(fn: (tx: StoreTx) => T): T {
    // Nesting would make a savepoint whose rollback could not undo the revision bookkeeping.
    if (this.inWrite) throw new Error('store.write called inside a write transaction');
    this.inWrite = true;
    this.txRevision = undefined;
    try {
      return this.db.transaction(() => fn(this.tx)).immediate();
    } catch (e: unknown) {
      this.txRevision = undefined;
      throw e;
    } finally {
      this.inWrite = false;
    }
  }

  private bump(): number {
    if (!this.inWrite) throw new Error('store write outside a write transaction');
    if (this.txRevision === undefined) {
      const row = this.nextRevision.get() as { value: number };
      this.txRevision = row.value;
    }
    return this.txRevision;
  }

  private emit(revision: number): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(revision);
      } catch {
        // A listener's failure must not turn a committed write into an error for the writer.
      }
    }
  }
}

/** Reads and writes against the open connection; only used inside SqliteStore's transactions. */
class SqliteTx implements StoreTx {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly bump: () => number,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      revision: p("SELECT value FROM meta WHERE key = 'revision'"),
      getResource: p('SELECT json FROM resources WHERE kind = ? AND name = ?'),
      listResources: p('SELECT json FROM resources WHERE kind = ? ORDER BY name'),
      putResource: p('INSERT INTO resources (kind, name, revision, json) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET revision = excluded.revision, json = excluded.json'),
      deleteResource: p('DELETE FROM resources WHERE kind = ? AND name = ?'),
      getVni: p('SELECT vni FROM vnis WHERE network = ?'),
      listVnis: p('SELECT network, vni FROM vnis ORDER BY vni'),
      setVni: p('INSERT INTO vnis (network, vni) VALUES (?, ?) ON CONFLICT (network) DO UPDATE SET vni = excluded.vni'),
      deleteVni: p('DELETE FROM vnis WHERE network = ?'),
      listBlocks: p('SELECT network, cidr, host FROM blocks WHERE (@network IS NULL OR network = @network) AND (@host IS NULL OR host = @host) ORDER BY network, cidr'),
      addBlock: p('INSERT INTO blocks (network, cidr, host) VALUES (?, ?, ?)'),
      deleteBlock: p('DELETE FROM blocks WHERE network = ? AND cidr = ?'),
      listReservations: p('SELECT * FROM reservations WHERE (@network IS NULL OR network = @network) AND (@host IS NULL OR host = @host) ORDER BY network, ip'),
      getReservation: p('SELECT * FROM reservations WHERE network = ? AND ip = ?'),
      putReservation: p(
        'INSERT INTO reservations (network, ip, owner, host, source, ref, pending) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (network, ip) DO UPDATE SET owner = excluded.owner, host = excluded.host, source = excluded.source, ref = excluded.ref, pending = excluded.pending',
      ),
      deleteReservation: p('DELETE FROM reservations WHERE network = ? AND ip = ?'),
      getEndpoint: p('SELECT json FROM endpoints WHERE name = ?'),
      listEndpoints: p('SELECT json FROM endpoints WHERE (@network IS NULL OR network = @network) AND (@host IS NULL OR host = @host) ORDER BY name'),
      endpointRevisions: p('SELECT name, revision FROM endpoints ORDER BY name'),
      endpointPlacements: p('SELECT DISTINCT network, host FROM endpoints ORDER BY network, host'),
      countEndpoints: p('SELECT count(*) AS n FROM endpoints WHERE (@network IS NULL OR network = @network) AND (@host IS NULL OR host = @host)'),
      endpointByIp: p('SELECT json FROM endpoints WHERE network = ? AND ip = ?'),
      putEndpoint: p('INSERT INTO endpoints (name, network, host, ip, revision, json) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET network = excluded.network, host = excluded.host, ip = excluded.ip, revision = excluded.revision, json = excluded.json'),
      deleteEndpoint: p('DELETE FROM endpoints WHERE name = ?'),
    };
  }

  revision(): number {
    return (this.q.revision.get() as { value: number }).value;
  }

  getResource<K extends Kind>(kind: K, name: string): ResourceOf<K> | undefined {
    const row = this.q.getResource.get(kind, name) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as ResourceOf<K>) : undefined;
  }

  listResources<K extends Kind>(kind: K): ResourceOf<K>[] {
    return (this.q.listResources.all(kind) as { json: string }[]).map((row) => JSON.parse(row.json) as ResourceOf<K>);
  }

  getVni(network: string): number | undefined {
    return (this.q.getVni.get(network) as { vni: number } | undefined)?.vni;
  }

  listVnis(): Map<string, number> {
    return new Map((this.q.listVnis.all() as { network: string; vni: number }[]).map((r) => [r.network, r.vni]));
  }

  listBlocks(filter: { network?: string; host?: string } = {}): BlockRow[] {
    return this.q.listBlocks.all(byNetworkHost(filter)) as BlockRow[];
  }

  listReservations(filter: { network?: string; host?: string } = {}): ReservationRow[] {
    return (this.q.listReservations.all(byNetworkHost(filter)) as ReservationDbRow[]).map(toReservation);
  }

  getReservation(network: string, ip: string): ReservationRow | undefined {
    const row = this.q.getReservation.get(network, ip) as ReservationDbRow | undefined;
    return row ? toReservation(row) : undefined;
  }

  getEndpointRecord(name: string): Endpoint | undefined {
    const row = this.q.getEndpoint.get(name) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as Endpoint) : undefined;
  }

  listEndpointRecords(filter: EndpointFilter = {}): Endpoint[] {
    return (this.q.listEndpoints.all(byNetworkHost(filter)) as { json: string }[]).map((r) => JSON.parse(r.json) as Endpoint);
  }

  countEndpointRecords(filter: EndpointFilter = {}): number {
    return (this.q.countEndpoints.get(byNetworkHost(filter)) as { n: number }).n;
  }

  listEndpointRecordRevisions(): Array<{ name: string; revision: number }> {
    return this.q.endpointRevisions.all() as Array<{ name: string; revision: number }>;
  }

  listEndpointPlacements(): Array<{ network: string; host: string }> {
    return this.q.endpointPlacements.all() as Array<{ network: string; host: string }>;
  }

  findEndpointRecordByIp(network: string, ip: string): Endpoint | undefined {
    const row = this.q.endpointByIp.get(network, ip) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as Endpoint) : undefined;
  }

  putResource<R extends AnyResource>(resource: R): { resource: R; action: WriteAction } {
    const existing = this.getResource(resource.kind, resource.metadata.name) as R | undefined;
    const out = stampResource(existing, resource, this.bump);
    if (out.action !== 'unchanged') {
      this.q.putResource.run(resource.kind, resource.metadata.name, this.bump(), JSON.stringify(out.resource));
    }
    return out;
  }

  deleteResource(kind: Kind, name: string): boolean {
    return this.changed(this.q.deleteResource.run(kind, name).changes);
  }

  setVni(network: string, vni: number): void {
    if (this.getVni(network) === vni) return;
    this.bump();
    this.q.setVni.run(network, vni);
  }

  deleteVni(network: string): void {
    this.changed(this.q.deleteVni.run(network).changes);
  }

  addBlock(block: BlockRow): void {
    this.bump();
    this.q.addBlock.run(block.network, block.cidr, block.host);
  }

  deleteBlock(network: string, cidr: string): void {
    this.changed(this.q.deleteBlock.run(network, cidr).changes);
  }

  putReservation(r: ReservationRow): void {
    const existing = this.getReservation(r.network, r.ip);
    const same = (a: ReservationRow) => a.owner === r.owner && a.host === r.host && a.source === r.source && a.ref === r.ref && (a.pending ?? false) === (r.pending ?? false);
    if (existing && same(existing)) return;
    this.bump();
    this.q.putReservation.run(r.network, r.ip, r.owner, r.host ?? null, r.source, r.ref ?? null, r.pending ? 1 : 0);
  }

  deleteReservation(network: string, ip: string): boolean {
    return this.changed(this.q.deleteReservation.run(network, ip).changes);
  }

  putEndpointRecord(endpoint: Endpoint): { resource: Endpoint; action: WriteAction } {
    const out = stampResource(this.getEndpointRecord(endpoint.metadata.name), endpoint, this.bump);
    if (out.action !== 'unchanged') {
      const e = out.resource;
      this.q.putEndpoint.run(e.metadata.name, e.spec.network, e.spec.host, e.spec.ip ?? e.status?.ip ?? '', this.bump(), JSON.stringify(e));
    }
    return out;
  }

  deleteEndpointRecord(name: string): boolean {
    return this.changed(this.q.deleteEndpoint.run(name).changes);
  }

  /** Deletes are statements first, then a bump only if a row went away. */
  private changed(changes: number): boolean {
    if (changes > 0) this.bump();
    return changes > 0;
  }
}
