// Every user write goes through here: POST/PUT/DELETE of single resources
// and POST /apply. Documents are validated in full before the store is
// touched; the writes of one request share one transaction.
import { inject, injectable } from 'inversify';
import { WeftError, invalid, isWeftError, type FieldIssue } from '../../model/errors.js';
import type { AnyResource, Endpoint, FirewallPolicy, Kind, Network } from '../../model/kinds.js';
import type { VnfKindName } from '../../model/vnf-resource.js';
import { API_VERSION, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from '../../model/meta.js';
import { APPLYSET_LABEL, type ApplyAction, type ApplyItemResult, type ApplyResult } from '../../model/rest.js';
import { parseResource } from '../../model/validate.js';
import { Ipam } from '../ipam/ipam.js';
import { Store, type ResourceOf, type StoreTx } from '../store/store.js';
import { deleteDeclaredEndpoint, writeDeclaredEndpoint } from './endpoint-writer.js';
import { deleteFirewallPolicy, writeFirewallPolicy } from './firewall-policy-writer.js';
import { VNF_KIND_NAMES } from '../planner/vnf-kinds.js';
import { deleteVnf, isVnfResource, writeVnf } from './vnf-writer.js';
import { writeHost } from './host-writer.js';
import { deleteNetwork, writeNetwork } from './network-writer.js';
import { keyOf, pruneResources, type PrunePlan } from './prune.js';
import { viewOf } from './resource-view.js';
import { rebase, type WriteMode } from './write-guards.js';

/** Kinds are written in this order inside an apply, so an Endpoint may name a Network of the same batch. */
/** Apply order: what others refer to first; VNFs (every kind) last, after the networks they join. */
const APPLY_ORDER: Record<Kind, number> = { Network: 0, Host: 1, Endpoint: 2, FirewallPolicy: 3, ...(Object.fromEntries(VNF_KIND_NAMES.map((k) => [k, 4])) as Record<VnfKindName, number>) };

const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
const LABEL_VALUE = new RegExp(LABEL_VALUE_PATTERN);

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

  createFirewallPolicy(body: unknown): FirewallPolicy {
    const doc = this.parseOne(body, 'FirewallPolicy');
    return this.store.write((tx) => writeFirewallPolicy(tx, doc, 'create').resource);
  }

  updateFirewallPolicy(name: string, body: unknown): FirewallPolicy {
    const doc = this.parseOne(body, 'FirewallPolicy', name);
    return this.store.write((tx) => writeFirewallPolicy(tx, doc, 'update').resource);
  }

  deleteFirewallPolicy(name: string): FirewallPolicy {
    return this.store.write((tx) => deleteFirewallPolicy(tx, name));
  }

  /** A VNF of any kind (vnf-writer.ts). */
  createVnf<K extends VnfKindName>(kind: K, body: unknown): ResourceOf<K> {
    const doc = this.parseOne(body, kind) as ResourceOf<K>;
    return this.store.write((tx) => writeVnf(tx, this.ipam, doc, 'create').resource);
  }

  updateVnf<K extends VnfKindName>(kind: K, name: string, body: unknown): ResourceOf<K> {
    const doc = this.parseOne(body, kind, name) as ResourceOf<K>;
    return this.store.write((tx) => writeVnf(tx, this.ipam, doc, 'update').resource);
  }

  deleteVnf<K extends VnfKindName>(kind: K, name: string): ResourceOf<K> {
    return this.store.write((tx) => deleteVnf(tx, kind, name));
  }

  /**
   * Validate every document, then write them all in one transaction (or
   * simulate it for a dry run). With `prune`, the transaction also removes
   * what the selector / apply set holds and the items do not; with `diff`,
   * every result carries its view before and after.
   */
  apply(body: unknown): ApplyResult {
    const { docs, dryRun, diff, prune } = this.parseApply(body);
    const run = (tx: StoreTx) => {
      const results: ApplyItemResult[] = docs.map((d) => ({ kind: d.kind, name: d.metadata.name, action: 'unchanged' as ApplyAction }));
      if (diff) {
        docs.forEach((d, i) => {
          const existing = tx.getResource(d.kind, d.metadata.name);
          if (existing) (results[i] as ApplyItemResult).live = viewOf(tx, existing);
        });
      }
      if (prune?.applyset !== undefined) checkApplySetOwnership(tx, docs, prune.applyset);
      const order = docs.map((_, i) => i).sort((a, b) => APPLY_ORDER[(docs[a] as AnyResource).kind] - APPLY_ORDER[(docs[b] as AnyResource).kind] || a - b);
      for (const i of order) {
        try {
          (results[i] as ApplyItemResult).action = this.writeAny(tx, docs[i] as AnyResource, 'apply');
        } catch (e: unknown) {
          throw rebase(e, `/items/${i}`);
        }
      }
      if (diff) {
        docs.forEach((d, i) => {
          const stored = tx.getResource(d.kind, d.metadata.name);
          if (stored) (results[i] as ApplyItemResult).merged = viewOf(tx, stored);
        });
      }
      const pruned = prune ? pruneResources(tx, prune, new Set(docs.map((d) => keyOf(d.kind, d.metadata.name))), diff) : undefined;
      return { results, pruned };
    };
    const { results, pruned } = dryRun ? this.store.simulate(run) : this.store.write(run);
    const out: ApplyResult = { results, revision: this.store.revision() };
    if (pruned) out.pruned = pruned;
    if (dryRun) out.dryRun = true;
    return out;
  }

  private writeAny(tx: StoreTx, doc: AnyResource, mode: WriteMode): ApplyAction {
    if (isVnfResource(doc)) return writeVnf(tx, this.ipam, doc, mode).action;
    switch (doc.kind) {
      case 'Network':
        return writeNetwork(tx, this.ipam, doc, mode).action;
      case 'Endpoint':
        return writeDeclaredEndpoint(tx, this.ipam, doc, mode).action;
      case 'Host':
        return writeHost(tx, doc, mode).action;
      case 'FirewallPolicy':
        return writeFirewallPolicy(tx, doc, mode).action;
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

  private parseApply(body: unknown): { docs: AnyResource[]; dryRun: boolean; diff: boolean; prune?: PrunePlan } {
    if (!isObject(body)) throw invalid([{ path: '', message: 'the body must be an object: { "items": [...], "dryRun": false }' }], 'apply request');
    const issues: FieldIssue[] = [];
    for (const key of Object.keys(body)) {
      if (!APPLY_FIELDS.includes(key)) issues.push({ path: `/${key}`, message: `unknown field "${key}"`, allowed: APPLY_FIELDS.join(', ') });
    }
    for (const key of ['dryRun', 'diff'] as const) {
      if (body[key] !== undefined && typeof body[key] !== 'boolean') issues.push({ path: `/${key}`, message: 'must be boolean', value: body[key] });
    }
    const prune = body.prune === undefined ? undefined : parsePrune(body.prune, issues);
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
        if (prune?.applyset !== undefined) labelApplySet(doc, prune.applyset, `/items/${i}`, issues);
        docs.push(doc);
      } catch (e: unknown) {
        if (!isWeftError(e)) throw e;
        for (const d of e.details) issues.push({ ...d, path: `/items/${i}${d.path}` });
      }
    });
    if (issues.length > 0) throw invalid(issues, 'apply request');
    const out: { docs: AnyResource[]; dryRun: boolean; diff: boolean; prune?: PrunePlan } = { docs, dryRun: body.dryRun === true, diff: body.diff === true };
    if (prune) out.prune = prune;
    return out;
  }
}

const APPLY_FIELDS = ['items', 'dryRun', 'diff', 'prune'];
const PRUNE_FIELDS = ['selector', 'applyset', 'cascade'];
const APPLYSET_POINTER = `/metadata/labels/${APPLYSET_LABEL.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** The prune part of an apply request; problems go to issues (paths under /prune). */
function parsePrune(raw: unknown, issues: FieldIssue[]): PrunePlan | undefined {
  if (!isObject(raw)) {
    issues.push({ path: '/prune', message: 'must be an object: { "selector": { "k": "v" }, "applyset": "NAME", "cascade": false }', value: raw });
    return undefined;
  }
  const before = issues.length;
  for (const key of Object.keys(raw)) {
    if (!PRUNE_FIELDS.includes(key)) issues.push({ path: `/prune/${key}`, message: `unknown field "${key}"`, allowed: PRUNE_FIELDS.join(', ') });
  }
  const selector: Record<string, string> = {};
  if (raw.selector !== undefined) {
    if (!isObject(raw.selector)) issues.push({ path: '/prune/selector', message: 'must be an object of label key: value', value: raw.selector });
    else {
      for (const [k, v] of Object.entries(raw.selector)) {
        const path = `/prune/selector/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (!LABEL_KEY.test(k) || k.length > 317) issues.push({ path, message: `label key ${JSON.stringify(k)} is not valid`, value: k, allowed: 'letters, digits, "-", "_", "." (at most 63), optionally prefixed by a DNS name and "/"' });
        else if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) issues.push({ path, message: 'label value is not valid', value: v, allowed: 'at most 63 letters, digits, "-", "_", ".", starting and ending with a letter or digit' });
        else selector[k] = v;
      }
    }
  }
  let applyset: string | undefined;
  if (raw.applyset !== undefined) {
    if (typeof raw.applyset !== 'string' || raw.applyset === '' || !LABEL_VALUE.test(raw.applyset) || raw.applyset.length > 63) {
      issues.push({ path: '/prune/applyset', message: 'must be a non-empty label value', value: raw.applyset, allowed: 'at most 63 letters, digits, "-", "_", ".", starting and ending with a letter or digit' });
    } else applyset = raw.applyset;
  }
  if (raw.cascade !== undefined && typeof raw.cascade !== 'boolean') issues.push({ path: '/prune/cascade', message: 'must be boolean', value: raw.cascade });
  if (issues.length === before && Object.keys(selector).length === 0 && applyset === undefined) {
    issues.push({ path: '/prune', message: 'a prune needs a non-empty selector or an applyset: without one it would remove every network, endpoint and firewall policy not in the request', allowed: 'selector, applyset' });
  }
  if (issues.length > before) return undefined;
  const plan: PrunePlan = { selector, cascade: raw.cascade === true };
  if (applyset !== undefined) plan.applyset = applyset;
  return plan;
}

/** --applyset NAME: every applied resource carries weft.dev/applyset=NAME; a document that says otherwise is refused. */
/**
 * An apply set must not take over another set's resources: its next prune
 * would delete what the other set's files still declare.
 */
function checkApplySetOwnership(tx: StoreTx, docs: AnyResource[], name: string): void {
  const issues: FieldIssue[] = [];
  docs.forEach((d, i) => {
    const owner = tx.getResource(d.kind, d.metadata.name)?.metadata.labels?.[APPLYSET_LABEL];
    if (owner !== undefined && owner !== name) {
      issues.push({ path: `/items/${i}${APPLYSET_POINTER}`, message: `${d.kind.toLowerCase()}/${d.metadata.name} belongs to apply set "${owner}", not "${name}": remove it from one of the two sets' files`, value: owner, allowed: name });
    }
  });
  if (issues.length > 0) throw new WeftError('Conflict', `${issues.length} resource${issues.length === 1 ? '' : 's'} of the apply belong to another apply set; nothing was applied`, { details: issues });
}

function labelApplySet(doc: AnyResource, name: string, base: string, issues: FieldIssue[]): void {
  const current = doc.metadata.labels?.[APPLYSET_LABEL];
  if (current !== undefined && current !== name) {
    issues.push({ path: `${base}${APPLYSET_POINTER}`, message: `this document belongs to apply set "${current}", not "${name}"`, value: current, allowed: name });
    return;
  }
  doc.metadata.labels = { ...doc.metadata.labels, [APPLYSET_LABEL]: name };
}
