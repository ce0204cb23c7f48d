// The controller's persistent state behind one port. SqliteStore is the
// implementation (a file in production, ':memory:' in unit tests: the same
// engine either way).
//
// Revisions: one counter for the whole store. A write transaction that
// changes anything takes the next revision once; every resource, block and
// record it writes carries that revision (metadata.resourceVersion), like an
// etcd transaction. A transaction that changes nothing does not bump it.
import type { AnyResource, Endpoint, Kind } from '../../model/kinds.js';

export type ResourceOf<K extends Kind> = Extract<AnyResource, { kind: K }>;

/** An address block of a network owned by one host (Calico-style affinity). */
export interface BlockRow {
  network: string;
  cidr: string;
  host: string;
}

/**
 * An address set aside outside the hosts' local allocation: a declared
 * Endpoint's spec.ip or a VNF's address (source 'declared', ref = the
 * declaring resource) or an agent's requestStatic (source 'agent'). It may
 * lie in another host's block (a loan): it is pending until that host's
 * agent confirms the address is free there and excluded from its local
 * allocation; only then does the reservation reach the host it is for.
 */
export interface ReservationRow {
  network: string;
  ip: string;
  owner: string;
  /** The host the address is for; undefined means any host. */
  host?: string;
  source: 'declared' | 'agent';
  ref?: string;
  /** A loan the owner of the block holding the address has not confirmed yet. */
  pending?: boolean;
}

export type WriteAction = 'created' | 'configured' | 'unchanged';

export interface EndpointFilter {
  network?: string;
  host?: string;
}

export interface StoreReader {
  revision(): number;
  getResource<K extends Kind>(kind: K, name: string): ResourceOf<K> | undefined;
  listResources<K extends Kind>(kind: K): ResourceOf<K>[];
  getVni(network: string): number | undefined;
  listVnis(): Map<string, number>;
  listBlocks(filter?: { network?: string; host?: string }): BlockRow[];
  listReservations(filter?: { network?: string; host?: string }): ReservationRow[];
  getReservation(network: string, ip: string): ReservationRow | undefined;
  /** Endpoints agents reported (attached), as Endpoint resources with status. */
  getEndpointRecord(name: string): Endpoint | undefined;
  listEndpointRecords(filter?: EndpointFilter): Endpoint[];
  /** How many listEndpointRecords(filter) would list, without reading them. */
  countEndpointRecords(filter?: EndpointFilter): number;
  /**
   * Every endpoint record's name and the revision it was last written at,
   * by name: which records changed since a copy was read, without reading
   * them all (a revision names one committed write of one record).
   */
  listEndpointRecordRevisions(): Array<{ name: string; revision: number }>;
  /** The (network, host) pairs that hold at least one endpoint record. */
  listEndpointPlacements(): Array<{ network: string; host: string }>;
  findEndpointRecordByIp(network: string, ip: string): Endpoint | undefined;
}

export interface StoreTx extends StoreReader {
  /**
   * Create or replace a resource. Sets uid and creationTimestamp on create,
   * bumps generation when the spec changed, stamps resourceVersion. Writes
   * nothing (and returns 'unchanged') when labels, spec and status are equal.
   */
  putResource<R extends AnyResource>(resource: R): { resource: R; action: WriteAction };
  deleteResource(kind: Kind, name: string): boolean;
  setVni(network: string, vni: number): void;
  deleteVni(network: string): void;
  addBlock(block: BlockRow): void;
  deleteBlock(network: string, cidr: string): void;
  putReservation(reservation: ReservationRow): void;
  deleteReservation(network: string, ip: string): boolean;
  putEndpointRecord(endpoint: Endpoint): { resource: Endpoint; action: WriteAction };
  deleteEndpointRecord(name: string): boolean;
}

export interface Store {
  revision(): number;
  /** A consistent snapshot for the duration of fn. */
  read<T>(fn: (r: StoreReader) => T): T;
  /** One transaction: all of fn's writes commit together, or none if it throws. */
  write<T>(fn: (tx: StoreTx) => T): T;
  /** Runs fn in a transaction that is always rolled back (dry runs). */
  simulate<T>(fn: (tx: StoreTx) => T): T;
  /** Called after every commit that bumped the revision. Returns an unsubscribe function. */
  onCommit(listener: (revision: number) => void): () => void;
  close(): void;
}
/** inversify token for Store. */
export const Store = Symbol('Store');
