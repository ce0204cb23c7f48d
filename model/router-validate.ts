// Semantic checks of a Router spec that its JSON Schema cannot say, and the
// refusals of what this build does not do yet (each names the field and
// says what works instead: a field accepted and silently ignored would
// leave a user believing in a NAT or an address that does not exist).
// Whether the host, the networks and the endpoints exist, whether the
// connected subnets overlap and whether a `via` is on a connected network
// need the store: controller/resources/router-checks.ts.
import type { FieldIssue } from './errors.js';
import { isIPv4, isIPv6, parsePrefix4 } from './ip.js';
import { SUPPORTED_EXTERNAL_MODES } from './router.js';
import { checkVnfAttachments } from './vnf-validate.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const quote = (v: unknown) => JSON.stringify(v);

function checkExternal(external: unknown, base: string, issues: FieldIssue[]): void {
  if (!isObject(external)) return;
  const path = `${base}/external`;
  const mode = typeof external.mode === 'string' ? external.mode : 'host';
  if (!SUPPORTED_EXTERNAL_MODES.has(mode)) {
    issues.push({ path: `${path}/mode`, message: `external mode "${mode}" is not supported yet; use mode: host (the router goes out through the host's own routing, with the host's address)`, value: mode, allowed: [...SUPPORTED_EXTERNAL_MODES].join(', ') });
  }
  for (const field of ['interface', 'address', 'gateway'] as const) {
    if (external[field] === undefined) continue;
    issues.push({
      path: `${path}/${field}`,
      message: `external.${field} belongs to mode: interface, which is not supported yet; remove it (mode host uses the host's own interfaces and addresses)`,
      value: external[field],
    });
  }
  if (external.snat === false && mode === 'host') {
    issues.push({
      path: `${path}/snat`,
      message: "snat: false is not supported in mode host: the host has no route back to the connected networks, so traffic must leave with the host's address; remove snat (or set it to true)",
      value: false,
    });
  }
}

function checkRoutes(routes: unknown, base: string, issues: FieldIssue[]): void {
  if (!Array.isArray(routes)) return;
  const seen = new Map<string, number>();
  routes.forEach((r: unknown, i: number) => {
    if (!isObject(r)) return;
    const path = `${base}/routes/${i}`;
    if (typeof r.to === 'string') {
      const p = parsePrefix4(r.to);
      if ('problem' in p) {
        const why = p.problem === 'family' || r.to.includes(':') ? 'IPv6 routes are not supported yet' : p.hint;
        issues.push({ path: `${path}/to`, message: `${quote(r.to)} is not a usable IPv4 destination: ${why}`, value: r.to });
      } else if (p.prefix.length === 0) {
        issues.push({ path: `${path}/to`, message: 'a default route is not a static route here: give the router external (its way out) instead, or a narrower destination', value: r.to });
      } else {
        const first = seen.get(r.to);
        if (first !== undefined) issues.push({ path: `${path}/to`, message: `destination ${r.to} is routed twice (also ${base}/routes/${first}); keep one`, value: r.to });
        else seen.set(r.to, i);
      }
    }
    if (typeof r.via === 'string' && !isIPv4(r.via)) {
      const why = isIPv6(r.via) ? 'IPv6 next hops are not supported yet' : 'not an IPv4 address';
      issues.push({ path: `${path}/via`, message: `${quote(r.via)}: ${why}; give an IPv4 address on one of the connected networks`, value: r.via });
    }
  });
}

function checkPortForwards(forwards: unknown, hasExternal: boolean, base: string, issues: FieldIssue[]): void {
  if (!Array.isArray(forwards) || forwards.length === 0) return;
  if (!hasExternal) {
    issues.push({ path: `${base}/portForwards`, message: 'port forwards publish ports on the external address, and this router has no external: add external: {mode: host}, or remove portForwards' });
  }
  const seen = new Map<string, number>();
  forwards.forEach((f: unknown, i: number) => {
    if (!isObject(f) || typeof f.protocol !== 'string' || typeof f.port !== 'number') return;
    const key = `${f.protocol}/${f.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ path: `${base}/portForwards/${i}/port`, message: `${key} is published twice (also ${base}/portForwards/${first}); a port leads to one endpoint: pick another port`, value: f.port });
    } else {
      seen.set(key, i);
    }
  });
}

/** Semantic checks on a Router spec; `base` is the pointer of the spec in its document. */
export function checkRouterSpec(spec: unknown, base = '/spec'): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!isObject(spec)) return issues;
  checkVnfAttachments(spec.interfaces, `${base}/interfaces`, 'router', issues);
  checkExternal(spec.external, base, issues);
  checkRoutes(spec.routes, base, issues);
  checkPortForwards(spec.portForwards, isObject(spec.external), base, issues);
  if (Array.isArray(spec.floatingIPs) && spec.floatingIPs.length > 0) {
    issues.push({
      path: `${base}/floatingIPs`,
      message: 'floating IPs need external mode: interface (the router\'s own addresses on an external segment), which is not supported yet; use portForwards in mode host to reach an endpoint from outside',
    });
  }
  return issues;
}
