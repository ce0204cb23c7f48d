// `capabilities` and `runtimeConfig` (CONVENTIONS.md): what the runtime
// passes per attachment; weft takes the `ips` and `mac` capabilities.
import { at, type Problems } from './cni-problems.js';

export function parseCapabilities(v: unknown, p: Problems): void {
  if (v === undefined) return;
  const o = p.object(v, 'capabilities');
  if (!o) return;
  for (const [k, val] of Object.entries(o)) p.boolean(val, at('capabilities', k));
}

export interface RuntimePart {
  ips?: unknown;
  mac?: unknown;
}

/** `runtimeConfig`: weft reads the `ips` and `mac` capabilities; others are for other plugins. */
export function parseRuntimeConfig(v: unknown, p: Problems): RuntimePart {
  if (v === undefined) return {};
  const rc = p.object(v, 'runtimeConfig');
  if (!rc) return {};
  const out: RuntimePart = {};
  if (rc.ips !== undefined) out.ips = rc.ips;
  if (rc.mac !== undefined) out.mac = rc.mac;
  return out;
}
