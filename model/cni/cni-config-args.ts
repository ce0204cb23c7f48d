// `args` of the plugin configuration (CONVENTIONS.md): the attachment's
// labels from args.labels and args.cni.labels, and args.cni.ips.
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from '../meta.js';
import { truncatedJson } from './cni-error.js';
import { at, type Problems } from './cni-problems.js';
import { CNI_CODE } from './cni-types.js';

/** The agent refuses more labels than this on an attachment. */
export const MAX_LABELS = 64;

const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
const LABEL_VALUE = new RegExp(LABEL_VALUE_PATTERN);

function addLabel(key: unknown, value: unknown, keyWhere: string, valueWhere: string, out: Record<string, string>, p: Problems): void {
  const k = p.string(key, keyWhere);
  const v = p.string(value, valueWhere);
  if (k === undefined || v === undefined) return;
  const keyOk = k.length <= 317 && LABEL_KEY.test(k);
  const valueOk = v.length <= 63 && LABEL_VALUE.test(v);
  if (!keyOk) {
    p.add(CNI_CODE.InvalidConfig, keyWhere, `label key ${truncatedJson(k)} has an invalid format`, 'at most 63 letters, digits, "-", "_", ".", starting and ending with a letter or digit, optionally prefixed by a DNS name and "/"');
  }
  if (!valueOk) {
    p.add(CNI_CODE.InvalidConfig, valueWhere, `label value ${truncatedJson(v)} has an invalid format`, 'empty, or at most 63 letters, digits, "-", "_", ".", starting and ending with a letter or digit');
  }
  if (keyOk && valueOk) out[k] = v;
}

export interface ArgsPart {
  labels: Record<string, string>;
  ips?: unknown;
}

/** `args` (CONVENTIONS.md): args.labels {k: v}, args.cni.labels [{key, value}], args.cni.ips; the rest is ignored. */
export function parseArgs(v: unknown, p: Problems): ArgsPart {
  const out: ArgsPart = { labels: {} };
  if (v === undefined) return out;
  const args = p.object(v, 'args');
  if (!args) return out;
  if (args.labels !== undefined) {
    const labels = p.object(args.labels, 'args.labels');
    for (const [k, val] of Object.entries(labels ?? {})) addLabel(k, val, at('args.labels', k), at('args.labels', k), out.labels, p);
  }
  const cni = args.cni === undefined ? undefined : p.object(args.cni, 'args.cni');
  if (cni?.labels !== undefined) {
    const list = p.array(cni.labels, 'args.cni.labels');
    list?.forEach((entry, i) => {
      const w = at('args.cni.labels', i);
      const e = p.object(entry, w);
      if (e) addLabel(e.key, e.value, at(w, 'key'), at(w, 'value'), out.labels, p);
    });
  }
  if (cni?.ips !== undefined) out.ips = cni.ips;
  const count = Object.keys(out.labels).length;
  if (count > MAX_LABELS) p.add(CNI_CODE.InvalidConfig, 'args', `gives ${count} labels, weft takes at most ${MAX_LABELS}`, 'pass fewer labels');
  return out;
}
