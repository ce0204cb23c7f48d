// Every user write goes through here: POST/PUT/DELETE of single resources
// and POST /apply. Documents are validated in full before the store is
// touched; the writes of one request share one transaction.
import { inject, injectable } from 'inversify';
import { invalid, isWeftError, type FieldIssue } from '../../model/errors.js';
import type { AnyResource, Endpoint, Kind, Network } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';
import type { ApplyAction, ApplyResult } from '../../model/rest.js';
import { parseResource } from '../../model/validate.js';
import { Ipam } from '../ipam/ipam.js';
import { Store, type StoreTx } from '../store/store.js';
import { deleteDeclaredEndpoint, writeDeclaredEndpoint } from './endpoint-writer.js';
import { writeHost } from './host-writer.js';
import { deleteNetwork, writeNetwork } from './network-writer.js';
import { rebase, type WriteMode } from './write-guards.js';

/** Kinds are written in this order inside an apply, so an Endpoint may name a Network of the same batch. */
const APPLY_ORDER: Record<Kind, number> = { Network: 0, Host: 1, Endpoint: 2 };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

@injectable()
export class ResourceService {
  constructor(
    @inject(Store) private readonly store: Store,
    @inject(Ipam) private readonly ipam: Ipam,
  ) {}

  createNetwork(body: unknown): Network {
    const doc = this.parseOne(body, 'Network');
    return this.store.write((tx) => writeNetwork(tx, this.ipam, doc, 'create').resource);
  }

  updateNetwork(name: string, body: unknown): Network {
    const doc = this.parseOne(body, 'Network', name);
    return this.store.write((tx) => writeNetwork(tx, this.ipam, doc, 'update').resource);
  }

  deleteNetwork(name: string): Network {
    return this.store.write((tx) => deleteNetwork(tx, name));
  }

  deleteEndpoint(name: string): Endpoint {
    return this.store.write((tx) => deleteDeclaredEndpoint(tx, name));
  }

  /** Validate every document, then write them all in one transaction (or simulate it for a dry run). */
  apply(body: unknown): ApplyResult {
    const { docs, dryRun } = this.parseApply(body);
    const run = (tx: StoreTx) => {
      const results: ApplyResult['results'] = docs.map((d) => ({ kind: d.kind, name: d.metadata.name, action: 'unchanged' as ApplyAction }));
      const order = docs.map((_, i) => i).sort((a, b) => APPLY_ORDER[(docs[a] as AnyResource).kind] - APPLY_ORDER[(docs[b] as AnyResource).kind] || a - b);
      for (const i of order) {
        try {
          (results[i] as { action: ApplyAction }).action = this.writeAny(tx, docs[i] as AnyResource, 'apply');
        } catch (e: unknown) {
          throw rebase(e, `/items/${i}`);
        }
      }
      return results;
    };
    const results = dryRun ? this.store.simulate(run) : this.store.write(run);
    const out: ApplyResult = { results, revision: this.store.revision() };
    if (dryRun) out.dryRun = true;
    return out;
  }

  private writeAny(tx: StoreTx, doc: AnyResource, mode: WriteMode): ApplyAction {
    switch (doc.kind) {
      case 'Network':
        return writeNetwork(tx, this.ipam, doc, mode).action;
      case 'Endpoint':
        return writeDeclaredEndpoint(tx, this.ipam, doc, mode).action;
      case 'Host':
        return writeHost(tx, doc, mode).action;
    }
  }

  /**
   * A single resource from a typed route. apiVersion and kind may be left
   * out (the route says what it is); a name in the URL must match the body's.
   */
  private parseOne<K extends Kind>(body: unknown, kind: K, urlName?: string): Extract<AnyResource, { kind: K }> {
    if (!isObject(body)) throw invalid([{ path: '', message: 'the body must be a JSON object (a resource document)' }], 'request');
    const doc: Record<string, unknown> = { apiVersion: API_VERSION, kind, ...body };
    if (urlName !== undefined) {
      const meta = doc.metadata;
      if (meta === undefined) doc.metadata = { name: urlName };
      else if (isObject(meta) && meta.name === undefined) doc.metadata = { ...meta, name: urlName };
      else if (isObject(meta) && meta.name !== urlName) {
        throw invalid([{ path: '/metadata/name', message: `the name in the body (${JSON.stringify(meta.name)}) does not match the URL ("${urlName}")`, value: meta.name, allowed: urlName }]);
      }
    }
    const parsed = parseResource(doc, kind);
    if (parsed.kind !== kind) {
      throw invalid([{ path: '/kind', message: `this endpoint takes ${kind} documents, got ${parsed.kind}`, value: parsed.kind, allowed: kind }]);
    }
    return parsed as Extract<AnyResource, { kind: K }>;
  }

  private parseApply(body: unknown): { docs: AnyResource[]; dryRun: boolean } {
    if (!isObject(body)) throw invalid([{ path: '', message: 'the body must be an object: { "items": [...], "dryRun": false }' }], 'apply request');
    const issues: FieldIssue[] = [];
    for (const key of Object.keys(body)) {
      if (key !== 'items' && key !== 'dryRun') issues.push({ path: `/${key}`, message: `unknown field "${key}"`, allowed: 'items, dryRun' });
    }
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') issues.push({ path: '/dryRun', message: 'must be boolean', value: body.dryRun });
    if (!Array.isArray(body.items)) {
      issues.push({ path: '/items', message: body.items === undefined ? 'required field "items" is missing' : 'must be an array of resources', value: body.items });
      throw invalid(issues, 'apply request');
    }
    const docs: AnyResource[] = [];
    const seen = new Map<string, number>();
    body.items.forEach((item: unknown, i: number) => {
      try {
        const doc = parseResource(item);
        const key = `${doc.kind}/${doc.metadata.name}`;
        const first = seen.get(key);
        if (first !== undefined) {
          issues.push({ path: `/items/${i}/metadata/name`, message: `${key} appears twice in this request (also /items/${first})`, value: doc.metadata.name });
        }
        seen.set(key, i);
        docs.push(doc);
      } catch (e: unknown) {
        if (!isWeftError(e)) throw e;
        for (const d of e.details) issues.push({ ...d, path: `/items/${i}${d.path}` });
      }
    });
    if (issues.length > 0) throw invalid(issues, 'apply request');
    return { docs, dryRun: body.dryRun === true };
  }
}
