// The list filters: a label selector as `weft get -l` takes it (k=v,
// k!=v, k), a network, a host and free text. What "on a network" or "on a
// host" means depends on the kind (see relatesTo*). Pure.
import type { AnyResource } from '../../model/kinds.js';

export interface LabelTerm {
  key: string;
  /** '=' has the value, '!=' does not, 'exists' carries the key at all. */
  op: '=' | '!=' | 'exists';
  value?: string;
}

export type SelectorParse = { ok: true; terms: LabelTerm[] } | { ok: false; error: string };

export interface ListFilter {
  /** Raw selector text as typed. */
  selector?: string;
  network?: string;
  host?: string;
  /** Matched against the name, case-insensitively. */
  text?: string;
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export function parseSelector(text: string): SelectorParse {
  const terms: LabelTerm[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^([^=!]+?)\s*(!=|==|=)\s*(.*)$/.exec(part);
    const key = (m ? m[1] : part)?.trim() ?? '';
    if (!KEY.test(key)) return { ok: false, error: `"${part}": a label key is letters, digits, "-", "_", "." and "/"` };
    if (!m) {
      terms.push({ key, op: 'exists' });
      continue;
    }
    const value = (m[3] ?? '').trim();
    if (!VALUE.test(value)) return { ok: false, error: `"${part}": a label value is letters, digits, "-", "_" and "."` };
    terms.push({ key, op: m[2] === '!=' ? '!=' : '=', value });
  }
  return { ok: true, terms };
}

export function matchesLabels(labels: Record<string, string> | undefined, terms: LabelTerm[]): boolean {
  const l = labels ?? {};
  return terms.every((t) => {
    const has = Object.prototype.hasOwnProperty.call(l, t.key);
    if (t.op === 'exists') return has;
    if (t.op === '=') return has && l[t.key] === t.value;
    return !has || l[t.key] !== t.value;
  });
}

/** Whether an object belongs to a network: its own name, the network it sits on, guards or applies to. */
export function relatesToNetwork(o: AnyResource, network: string): boolean {
  switch (o.kind) {
    case 'Network':
      return o.metadata.name === network;
    case 'Endpoint':
      return o.spec.network === network;
    case 'Firewall':
      return o.spec.networks.some((n) => n.network === network);
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
      return o.spec.host === host;
    case 'Network':
    case 'FirewallPolicy':
      return (o.status?.hosts ?? {})[host] !== undefined;
  }
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
  if (!matchesLabels(o.metadata.labels, f.terms)) return false;
  if (f.network !== undefined && !relatesToNetwork(o, f.network)) return false;
  if (f.host !== undefined && !relatesToHost(o, f.host)) return false;
  if (f.text !== undefined && !o.metadata.name.toLowerCase().includes(f.text)) return false;
  return true;
}
