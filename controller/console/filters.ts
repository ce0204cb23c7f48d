// The list filters: a label selector as the API and kubectl take it (k=v,
// k!=v, k, !k), a network, a host and free text. What "on a network" or "on a
// host" means depends on the kind (see relatesTo*). Pure.
import type { AnyResource } from '../../model/kinds.js';
import { matchesLabelTerms, parseLabelSelectorTerms, type LabelTerm } from '../../model/label-selector.js';
import { vnfAttachments } from '../../model/vnf-resource.js';

export type SelectorParse = { ok: true; terms: LabelTerm[] } | { ok: false; error: string };

export interface ListFilter {
  /** Raw selector text as typed. */
  selector?: string;
  network?: string;
  host?: string;
  /** Matched against the name, case-insensitively. */
  text?: string;
}

/** The selector as the API reads it (model/label-selector.ts), but empty terms are skipped: "tier=web," is half-way to the next term. */
export function parseSelector(text: string): SelectorParse {
  const parsed = parseLabelSelectorTerms(text, { skipEmpty: true });
  return parsed.ok ? parsed : { ok: false, error: `"${parsed.term}": ${parsed.message}` };
}

/** Whether an object belongs to a network: its own name, the network it sits on, guards or applies to. */
export function relatesToNetwork(o: AnyResource, network: string): boolean {
  switch (o.kind) {
    case 'Network':
      return o.metadata.name === network;
    case 'Endpoint':
      return o.spec.network === network;
    case 'Firewall':
    case 'Router':
      return vnfAttachments(o).some((n) => n.network === network);
    case 'FirewallPolicy':
      // A policy without a network applies to every network.
      return o.spec.appliesTo?.network === undefined || o.spec.appliesTo.network === network;
    case 'Host':
      return o.status?.blocks?.some((b) => b.network === network) === true;
  }
}

/** Whether an object belongs to a host: the host itself, what runs on it, what it carries. */
export function relatesToHost(o: AnyResource, host: string): boolean {
  switch (o.kind) {
    case 'Host':
      return o.metadata.name === host;
    case 'Endpoint':
      return o.spec.host === host;
    case 'Firewall':
    case 'Router':
      return o.spec.host === host;
    case 'Network':
    case 'FirewallPolicy':
      return hostEntry(o.status?.hosts, host) !== undefined;
  }
}

/**
 * A host's entry in a per-host status map. Own keys only: host names come
 * from users, and `hosts["constructor"]` on a plain object is a function.
 */
export function hostEntry<T>(hosts: Record<string, T> | undefined, host: string): T | undefined {
  return hosts !== undefined && Object.hasOwn(hosts, host) ? hosts[host] : undefined;
}

export interface CompiledFilter {
  terms: LabelTerm[];
  network?: string;
  host?: string;
  text?: string;
  /** Set when the selector does not parse; nothing matches then. */
  error?: string;
}

export function compileFilter(f: ListFilter): CompiledFilter {
  const parsed = parseSelector(f.selector ?? '');
  const c: CompiledFilter = { terms: parsed.ok ? parsed.terms : [] };
  if (!parsed.ok) c.error = parsed.error;
  if (f.network) c.network = f.network;
  if (f.host) c.host = f.host;
  const text = f.text?.trim().toLowerCase();
  if (text) c.text = text;
  return c;
}

export function matchesFilter(o: AnyResource, f: CompiledFilter): boolean {
  if (f.error !== undefined) return false;
  if (!matchesLabelTerms(o.metadata.labels, f.terms)) return false;
  if (f.network !== undefined && !relatesToNetwork(o, f.network)) return false;
  if (f.host !== undefined && !relatesToHost(o, f.host)) return false;
  if (f.text !== undefined && !o.metadata.name.toLowerCase().includes(f.text)) return false;
  return true;
}
