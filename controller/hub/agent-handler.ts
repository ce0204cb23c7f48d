// What each agent message does to the store. The hub owns sockets and
// ordering; this class owns the state changes, each in one transaction.
import { inject, injectable } from 'inversify';
import type { AgentHello, EndpointReport } from '../../model/agent-protocol.js';
import { WeftError, isWeftError } from '../../model/errors.js';
import type { Endpoint, Host, HostStatus } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';
import { parseVtepAddress } from '../hosts/vtep-address.js';
import { parseIp } from '../ipam/address-space.js';
import { Ipam } from '../ipam/ipam.js';
import { recordConflicts } from '../resources/endpoint-writer.js';
import { Store, type BlockRow, type ReservationRow, type StoreTx } from '../store/store.js';
import { recordFromReport } from './endpoint-record.js';

export interface Rejected {
  endpoint: string;
  error: WeftError;
}

export type LoanOutcome = { granted: ReservationRow } | { waitingFor: BlockRow } | { error: WeftError };

@injectable()
export class AgentHandler {
  constructor(
    @inject(Store) private readonly store: Store,
    @inject(Ipam) private readonly ipam: Ipam,
  ) {}

  /**
   * Upsert the Host (underlay address and MTU: what other hosts' plans use
   * to reach it), reconcile this host's endpoint records to the agent's
   * list (unlisted records go and free their addresses; invalid reports are
   * rejected one by one), drop agent statics no listed endpoint uses, and
   * pre-grant blocks. One transaction.
   */
  hello(msg: AgentHello, now: number): Rejected[] {
    const host = msg.host;
    return this.store.write((tx) => {
      this.upsertHost(tx, host, (s) => {
        if (msg.address !== undefined) {
          const vtep = parseVtepAddress(msg.address);
          // A bad address is dropped, not kept from before: the agent may have moved; the hub tells it why.
          if ('address' in vtep) s.address = vtep.address;
          else delete s.address;
        }
        if (msg.underlayMtu !== undefined) s.underlayMtu = msg.underlayMtu;
        s.agentVersion = msg.agentVersion;
        s.appliedRevision = msg.appliedRevision;
        s.lastHeartbeat = new Date(now).toISOString();
      });
      // Unlisted records go first, so a listed endpoint may take over an address an old record held.
      const listed = new Set(msg.endpoints.map((e) => e.name));
      for (const rec of tx.listEndpointRecords({ host })) {
        if (listed.has(rec.metadata.name)) continue;
        tx.deleteEndpointRecord(rec.metadata.name);
        this.ipam.freeEndpointAddress(tx, rec);
      }
      const rejected: Rejected[] = [];
      const accepted = new Map<string, Endpoint>();
      for (const rep of msg.endpoints) {
        try {
          if (accepted.has(rep.name)) throw new WeftError('Invalid', `endpoint "${rep.name}" is listed twice in hello`);
          this.checkReport(tx, host, rep, true);
          accepted.set(rep.name, tx.putEndpointRecord(recordFromReport(host, rep)).resource);
        } catch (e: unknown) {
          if (!isWeftError(e)) throw e;
          rejected.push({ endpoint: rep.name, error: e });
          // A record of this name from before stays only if the agent still reports it validly.
          const stale = tx.getEndpointRecord(rep.name);
          if (stale?.spec.host === host && !accepted.has(rep.name)) {
            tx.deleteEndpointRecord(rep.name);
            this.ipam.freeEndpointAddress(tx, stale);
          }
        }
      }
      // An agent static nobody attached with (the attach failed while we were apart) would leak forever.
      const owners = new Set([...accepted.values()].map((e) => e.spec.containerId));
      for (const r of tx.listReservations({ host })) {
        if (r.source === 'agent' && !owners.has(r.owner)) tx.deleteReservation(r.network, r.ip);
      }
      this.ipam.ensurePregrants(tx, host);
      return rejected;
    });
  }

  endpointUp(host: string, rep: EndpointReport): Endpoint {
    return this.store.write((tx) => {
      this.checkReport(tx, host, rep, false);
      return tx.putEndpointRecord(recordFromReport(host, rep)).resource;
    });
  }

  /** Idempotent: an unknown name, or one another host reported, changes nothing. */
  endpointDown(host: string, name: string): boolean {
    return this.store.write((tx) => {
      const rec = tx.getEndpointRecord(name);
      if (!rec || rec.spec.host !== host) return false;
      tx.deleteEndpointRecord(name);
      this.ipam.freeEndpointAddress(tx, rec);
      return true;
    });
  }

  requestBlock(host: string, network: string): BlockRow {
    return this.store.write((tx) => this.ipam.grantBlock(tx, network, host) as BlockRow);
  }

  requestStatic(host: string, network: string, ip: string, owner: string): ReservationRow {
    return this.store.write((tx) => this.ipam.reserveStatic(tx, { network, ip, owner, host, source: 'agent' }));
  }

  releaseStatic(host: string, network: string, ip: string): boolean {
    return this.store.write((tx) => this.ipam.releaseStatic(tx, network, ip, host));
  }

  /** The block's owner says a pending loan of one of its addresses is free there (ipam.ts). */
  confirmLoan(host: string, network: string, ip: string): boolean {
    return this.store.write((tx) => this.ipam.confirmLoan(tx, host, network, ip));
  }

  /**
   * Where host's request for a static address that became a loan stands:
   * granted (the block's owner confirmed), still waiting for the owner, or
   * failed (the owner's endpoint has the address, or the reservation went).
   */
  loanOutcome(host: string, network: string, ip: string, owner: string): LoanOutcome {
    return this.store.read((r) => {
      const recorded = r.findEndpointRecordByIp(network, ip);
      if (recorded && recorded.spec.containerId !== owner) {
        const holder = this.ipam.holderOf(r, network, ip);
        return { error: new WeftError('AddressInUse', `${ip} on network "${network}" is in use by ${holder?.describe ?? `endpoint "${recorded.metadata.name}"`}`, { field: '/ip' }) };
      }
      const res = r.getReservation(network, ip);
      if (!res || res.owner !== owner || (res.host !== undefined && res.host !== host)) {
        const holder = this.ipam.holderOf(r, network, ip);
        const why = holder ? `is taken by ${holder.describe}` : 'was released before the host whose block holds it confirmed it';
        return { error: new WeftError('AddressInUse', `${ip} on network "${network}" ${why}`, { field: '/ip' }) };
      }
      const ipn = parseIp(ip);
      const lender = res.pending && ipn !== undefined ? this.ipam.lenderOf(r, network, ipn, host) : undefined;
      return lender ? { waitingFor: lender } : { granted: res };
    });
  }

  /** Give up a loan host asked for and will not get: its pending agent reservation goes, a declaration's stays. */
  abandonLoan(host: string, network: string, ip: string, owner: string): void {
    this.store.write((tx) => {
      const res = tx.getReservation(network, ip);
      if (res?.pending && res.source === 'agent' && res.owner === owner && res.host === host) tx.deleteReservation(network, ip);
    });
  }

  /** Pre-grant blocks of networks created while these hosts were connected. */
  pregrant(hosts: string[]): void {
    if (hosts.length === 0) return;
    this.store.write((tx) => {
      for (const h of hosts) this.ipam.ensurePregrants(tx, h);
    });
  }

  /** Remember when the host was last heard of, for the Gone grace period across controller restarts. */
  disconnected(host: string, lastSeen: number): void {
    this.store.write((tx) => {
      if (!tx.getResource('Host', host)) return;
      this.upsertHost(tx, host, (s) => {
        s.lastHeartbeat = new Date(lastSeen).toISOString();
      });
    });
  }

  private upsertHost(tx: StoreTx, name: string, edit: (status: HostStatus) => void): void {
    const existing = tx.getResource('Host', name);
    const status: HostStatus = { ...(existing?.status ?? {}) };
    // State is computed at read time from the live connection; a stored one would go stale.
    delete status.state;
    edit(status);
    const host: Host = existing ? { ...existing, status } : { apiVersion: API_VERSION, kind: 'Host', metadata: { name }, spec: {}, status };
    tx.putResource(host);
  }

  /** Is this report acceptable from this host? Name, declaration and address checks. */
  private checkReport(tx: StoreTx, host: string, rep: EndpointReport, adopt: boolean): void {
    const other = tx.getEndpointRecord(rep.name);
    if (other && other.spec.host !== host) {
      throw new WeftError('Conflict', `endpoint "${rep.name}" is recorded on host "${other.spec.host}"; it cannot be on host "${host}" too`);
    }
    const declared = tx.getResource('Endpoint', rep.name);
    const conflicts = declared ? recordConflicts(recordFromReport(host, rep), declared.spec) : [];
    if (conflicts.length > 0) {
      throw new WeftError('Conflict', `endpoint "${rep.name}" contradicts its declaration: ${conflicts.join('; ')}`);
    }
    this.ipam.checkEndpointAddress(tx, host, rep, { adopt });
  }
}
