// Validation of resources: JSON Schema (the same schemas `weft schema` will
// export) for shape, then semantic checks for what a schema cannot say
// (CIDR host bits, gateway inside the subnet, overlaps; FirewallPolicy's
// in firewall-validate.ts).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldIssue } from './errors.js';
import { invalid } from './errors.js';
import { KINDS, SCHEMAS, type AnyResource, type Kind, type Network, type NetworkSpec, type Endpoint } from './kinds.js';
import { API_VERSION } from './meta.js';
import { closestMatch } from './did-you-mean.js';
import { checkFirewallPolicySpec } from './firewall-validate.js';
import { checkFirewallSpec } from './firewall-vnf-validate.js';
import { checkRouterSpec } from './router-validate.js';
import { subnet6Holds } from './dual-stack.js';
import { ownMacRange } from './kernel-names.js';
import {
  intToIpv4, ipv4ToInt, isIPv4, isIPv6, parsePrefix4, parsePrefix6, prefix6Contains, prefixContains, prefixes6Overlap,
  prefixesOverlap, prefixLast, type Prefix4,
} from './ip.js';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
// Compiled on first use: compiling every kind's schema takes ~0.9 s, which
// every `weft` command (and the console's first paint) would pay at start,
// most of them without validating anything.
const validators = new Map<Kind, ValidateFunction>();

function validatorFor(kind: Kind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    v = ajv.compile(SCHEMAS[kind]);
    validators.set(kind, v);
  }
  return v;
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** A value for a message, cut short: a 5 MB string must not become a 5 MB error line. */
export function quoteValue(v: unknown, max = 60): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** "got string "1400"": the type, and the value itself when it is a scalar. */
function got(value: unknown): string {
  const type = describeType(value);
  return value !== null && typeof value === 'object' ? type : `${type} ${quoteValue(value)}`;
}

function range(schema: unknown): string | undefined {
  const s = schema as { minimum?: number; maximum?: number } | undefined;
  if (s?.minimum !== undefined && s.maximum !== undefined) return `${s.minimum} to ${s.maximum}`;
  if (s?.minimum !== undefined) return `${s.minimum} or more`;
  if (s?.maximum !== undefined) return `at most ${s.maximum}`;
  return undefined;
}

function withAllowed(issue: FieldIssue, allowed: string | undefined): FieldIssue {
  return allowed === undefined ? issue : { ...issue, allowed };
}

function issueFromAjv(e: ErrorObject, doc: unknown): FieldIssue {
  const path = e.instancePath;
  const value = valueAt(doc, path);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(p.additionalProperty);
      const parent = e.parentSchema as { properties?: object; patternProperties?: object } | undefined;
      const extraPath = `${path}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (parent?.patternProperties !== undefined && parent.properties === undefined) {
        // A map with free keys (labels, port sets): the key itself is malformed.
        if (path.endsWith('/portSets')) {
          return { path: extraPath, message: `port set name ${quoteValue(extra)} has an invalid format`, value: extra, allowed: 'lowercase letters, digits and "-" (at most 32), starting and ending with a letter or digit' };
        }
        return { path: extraPath, message: `label key ${quoteValue(extra)} has an invalid format`, value: extra, allowed: patternHint('/labels', '') };
      }
      const schemaProps = Object.keys(parent?.properties ?? {});
      // Firewall rules: "to" in an ingress rule (or "from" in an egress one) is the other direction's peer list.
      const otherDirection = DIRECTION_PEERS[extra];
      if (otherDirection !== undefined && schemaProps.includes(otherDirection.field)) {
        return {
          path: extraPath,
          message: `unknown field "${extra}": ${otherDirection.here} rules take "${otherDirection.field}"; "${extra}" belongs in ${otherDirection.there} rules`,
          allowed: schemaProps.join(', '),
        };
      }
      const hint = closestMatch(extra, schemaProps);
      return {
        path: extraPath,
        message: `unknown field "${extra}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        allowed: schemaProps.join(', '),
      };
    }
    case 'required':
      return { path: `${path}/${String(p.missingProperty)}`, message: `required field "${String(p.missingProperty)}" is missing` };
    case 'type':
      return { path, message: `must be ${String(p.type)}, got ${got(value)}`, value };
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}, got ${got(value)}`, value, allowed: JSON.stringify(p.allowedValue) };
    case 'pattern':
      return { path, message: `${quoteValue(value)} has an invalid format`, value, allowed: patternHint(path, String(p.pattern)) };
    case 'maxLength':
    case 'minLength': {
      const length = typeof value === 'string' ? value.length : 0;
      const message = e.keyword === 'minLength' && length === 0 ? 'must not be empty' : `length must be ${e.keyword === 'maxLength' ? 'at most' : 'at least'} ${String(p.limit)}, got ${length}`;
      const pattern = (e.parentSchema as { pattern?: string } | undefined)?.pattern;
      return withAllowed({ path, message, value }, pattern === undefined ? undefined : patternHint(path, pattern));
    }
    case 'minimum':
    case 'maximum':
      return withAllowed({ path, message: `must be ${e.keyword === 'maximum' ? '<=' : '>='} ${String(p.limit)}, got ${quoteValue(value)}`, value }, range(e.parentSchema));
    case 'anyOf': {
      const values = literalValues(e);
      if (values) {
        const hint = typeof value === 'string' ? closestMatch(value, values) : undefined;
        return { path, message: `must be one of ${values.join(', ')}, got ${got(value)}${hint ? ` (did you mean "${hint}"?)` : ''}`, value, allowed: values.join(', ') };
      }
      return { path, message: `${quoteValue(value)} is not one of the allowed values`, value };
    }
    case 'minItems':
    case 'maxItems': {
      const count = Array.isArray(value) ? value.length : 0;
      const limit = Number(p.limit);
      const message =
        e.keyword === 'minItems' ? `must have at least ${limit} item${limit === 1 ? '' : 's'}, got ${count}` : `must have at most ${limit} item${limit === 1 ? '' : 's'}, got ${count}`;
      return { path, message };
    }
    default:
      return { path, message: e.message ?? e.keyword, value };
  }
}

/** The peer list of each firewall rule direction, for a hint when a rule uses the other one's. */
const DIRECTION_PEERS: Record<string, { field: string; here: string; there: string }> = {
  to: { field: 'from', here: 'ingress', there: 'egress' },
  from: { field: 'to', here: 'egress', there: 'ingress' },
};

/** The values of a union of string constants (typebox Union of Literals), else undefined. */
function literalValues(e: ErrorObject): string[] | undefined {
  const branches = e.schema as unknown;
  if (!Array.isArray(branches) || branches.length === 0) return undefined;
  const values = branches.map((b: unknown) => (b !== null && typeof b === 'object' ? (b as { const?: unknown }).const : undefined));
  return values.every((v): v is string => typeof v === 'string') ? values : undefined;
}

function patternHint(path: string, pattern: string): string {
  if (path.endsWith('/name') || path.endsWith('/network') || path.endsWith('/host')) {
    return 'lowercase letters, digits and "-", starting and ending with a letter or digit (a DNS label)';
  }
  if (path.endsWith('/ifname') || path.endsWith('/external/interface')) return '1-15 characters: letters, digits, "_", "." or "-" (the kernel limit is 15 bytes)';
  if (path.endsWith('/mac')) return 'six hex octets separated by ":", e.g. 02:42:ac:11:00:02';
  if (/\/(ports|portSets\/[^/]+)\/\d+$/.test(path)) return 'a port (80), a range ("8000-8080") or, in rules, a port set ("@web")';
  if (path.includes('/labels') || path.includes('/selector')) return 'label keys/values: letters, digits, "-", "_", "." (at most 63), optionally prefixed by a DNS name and "/"';
  return `must match ${pattern}`;
}

/** Shape check: apiVersion, kind and the kind's schema. */
export function checkShape(doc: unknown): { kind: Kind; issues: FieldIssue[] } | { kind: undefined; issues: FieldIssue[] } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { kind: undefined, issues: [{ path: '', message: `a resource must be an object, got ${describeType(doc)}` }] };
  }
  const d = doc as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  if (d.apiVersion !== API_VERSION) {
    issues.push({
      path: '/apiVersion',
      message: d.apiVersion === undefined ? 'required field "apiVersion" is missing' : `unsupported apiVersion ${quoteValue(d.apiVersion)}`,
      value: d.apiVersion,
      allowed: API_VERSION,
    });
  }
  const kind = KINDS.find((k) => k === d.kind);
  if (!kind) {
    const hint = typeof d.kind === 'string' ? closestMatch(d.kind, [...KINDS]) : undefined;
    issues.push({
      path: '/kind',
      message: d.kind === undefined ? 'required field "kind" is missing' : `unknown kind ${quoteValue(d.kind)}${hint ? ` (did you mean "${hint}"?)` : ''}`,
      value: d.kind,
      allowed: KINDS.join(', '),
    });
    return { kind: undefined, issues };
  }
  const validator = validatorFor(kind);
  if (!validator(doc)) {
    const errors = validator.errors ?? [];
    // Unions at a path: a union of constants is reported once, by itself; for
    // others (a port: integer or string) the branch errors say more, minus
    // "must be integer" for a string that another branch takes as a string.
    const unions = new Map(errors.filter((e) => e.keyword === 'anyOf').map((e) => [e.instancePath, e]));
    for (const e of errors) {
      if (e.instancePath === '/apiVersion') continue; // reported above, more clearly
      const union = unions.get(e.instancePath);
      if (union !== undefined && literalValues(union) !== undefined) {
        if (e !== union) continue;
      } else if (union !== undefined) {
        if (e === union && errors.some((x) => x !== e && x.instancePath === e.instancePath)) continue;
        if (e.keyword === 'type' && errors.some((x) => x.instancePath === e.instancePath && x.keyword !== 'type' && x.keyword !== 'anyOf')) continue;
      }
      // A too-long or empty name also misses its pattern; the length message says it and carries the pattern hint.
      if (e.keyword === 'pattern' && errors.some((x) => x.instancePath === e.instancePath && (x.keyword === 'maxLength' || x.keyword === 'minLength'))) continue;
      issues.push(issueFromAjv(e, doc));
    }
  }
  return { kind, issues: dedupe(issues) };
}

function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The network prefix, gateway and usable range after a spec passed checks. */
export interface NetworkLayout {
  prefix: Prefix4;
  gateway: number;
}

/** Semantic checks on a network spec, independent of other networks. */
export function checkNetworkSpec(spec: NetworkSpec, base = '/spec'): { layout?: NetworkLayout; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const parsed = parsePrefix4(spec.subnet);
  let layout: NetworkLayout | undefined;
  if ('problem' in parsed) {
    issues.push({ path: `${base}/subnet`, message: `${quoteValue(spec.subnet)} is not a valid IPv4 network: ${parsed.hint}`, value: spec.subnet });
  } else {
    const p = parsed.prefix;
    if (p.length < 8 || p.length > 30) {
      issues.push({
        path: `${base}/subnet`,
        message: `prefix length /${p.length} is not allowed for a network`,
        value: spec.subnet,
        allowed: '/8 to /30 (a /31 or /32 has no room for a gateway and endpoints)',
      });
    } else {
      let gw = p.base + 1;
      if (spec.gateway !== undefined) {
        if (!isIPv4(spec.gateway)) {
          issues.push({ path: `${base}/gateway`, message: `${quoteValue(spec.gateway)} is not an IPv4 address`, value: spec.gateway });
        } else {
          gw = ipv4ToInt(spec.gateway);
          if (!prefixContains(p, gw) || gw === p.base || gw === prefixLast(p)) {
            issues.push({
              path: `${base}/gateway`,
              message: `gateway ${spec.gateway} is not a usable address of ${spec.subnet}`,
              value: spec.gateway,
              allowed: `${intToIpv4(p.base + 1)} - ${intToIpv4(prefixLast(p) - 1)}`,
            });
          }
        }
      }
      if (spec.blockSize !== undefined && spec.blockSize < p.length) {
        issues.push({ path: `${base}/blockSize`, message: `block /${spec.blockSize} is larger than the subnet /${p.length}`, value: spec.blockSize, allowed: `/${p.length} to /30` });
      }
      layout = { prefix: p, gateway: gw };
    }
  }
  if (spec.subnet6 !== undefined) {
    const p6 = parsePrefix6(spec.subnet6);
    if ('problem' in p6) {
      issues.push({ path: `${base}/subnet6`, message: `${quoteValue(spec.subnet6)} is not a valid IPv6 network: ${p6.hint}`, value: spec.subnet6 });
    } else if (p6.prefix.length > 120 || p6.prefix.length < 48) {
      issues.push({ path: `${base}/subnet6`, message: `prefix length /${p6.prefix.length} is not allowed`, value: spec.subnet6, allowed: '/48 to /120' });
    } else if (layout && !subnet6Holds(layout.prefix.length, p6.prefix.length)) {
      // Each endpoint's IPv6 address sits at its IPv4 address's offset (model/dual-stack.ts).
      issues.push({
        path: `${base}/subnet6`,
        message: `subnet6 /${p6.prefix.length} has fewer addresses than subnet /${layout.prefix.length}: each endpoint's IPv6 address sits at its IPv4 address's offset`,
        value: spec.subnet6,
        allowed: `/48 to /${128 - (32 - layout.prefix.length)}`,
      });
    } else if (spec.gateway6 !== undefined && !prefix6Contains(p6.prefix, spec.gateway6)) {
      issues.push({ path: `${base}/gateway6`, message: `gateway6 ${quoteValue(spec.gateway6)} is not an address inside ${spec.subnet6}`, value: spec.gateway6 });
    }
  } else if (spec.gateway6 !== undefined) {
    issues.push({ path: `${base}/gateway6`, message: 'gateway6 needs subnet6', value: spec.gateway6 });
  }
  return layout ? { layout, issues } : { issues };
}

/** Overlap of one network against the others that exist (by name). */
export function checkNetworkOverlap(candidate: Network, others: Network[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const mine = parsePrefix4(candidate.spec.subnet);
  if ('problem' in mine) return issues;
  for (const other of others) {
    if (other.metadata.name === candidate.metadata.name) continue;
    const theirs = parsePrefix4(other.spec.subnet);
    if ('prefix' in theirs && prefixesOverlap(mine.prefix, theirs.prefix)) {
      issues.push({
        path: '/spec/subnet',
        message: `${candidate.spec.subnet} overlaps network "${other.metadata.name}" (${other.spec.subnet})`,
        value: candidate.spec.subnet,
        allowed: 'a subnet that no other network uses',
      });
    }
    if (candidate.spec.subnet6 && other.spec.subnet6) {
      const a = parsePrefix6(candidate.spec.subnet6);
      const b = parsePrefix6(other.spec.subnet6);
      if ('prefix' in a && 'prefix' in b && prefixes6Overlap(a.prefix, b.prefix)) {
        issues.push({ path: '/spec/subnet6', message: `${candidate.spec.subnet6} overlaps network "${other.metadata.name}" (${other.spec.subnet6})`, value: candidate.spec.subnet6 });
      }
    }
    if (candidate.spec.vni !== undefined && other.spec.vni === candidate.spec.vni) {
      issues.push({ path: '/spec/vni', message: `VNI ${candidate.spec.vni} is used by network "${other.metadata.name}"`, value: candidate.spec.vni });
    }
  }
  return issues;
}

export function checkEndpointSpec(ep: Endpoint): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (ep.spec.ip !== undefined && !isIPv4(ep.spec.ip)) {
    issues.push({ path: '/spec/ip', message: `${quoteValue(ep.spec.ip)} is not an IPv4 address`, value: ep.spec.ip });
  }
  if (ep.spec.mac !== undefined) {
    const first = parseInt(ep.spec.mac.slice(0, 2), 16);
    if (first & 1) issues.push({ path: '/spec/mac', message: `${ep.spec.mac} is a multicast MAC; endpoints need a unicast address`, value: ep.spec.mac });
    const own = ownMacRange(ep.spec.mac);
    if (own !== undefined) issues.push({ path: '/spec/mac', message: `${ep.spec.mac} is in the range weft keeps for ${own}; leave it out (weft derives one) or use another locally administered MAC`, value: ep.spec.mac });
  }
  return issues;
}

/**
 * Full validation of one document. Returns the typed resource or throws a
 * WeftError('Invalid') listing every problem found.
 */
export function parseResource(doc: unknown, what = 'resource'): AnyResource {
  const shape = checkShape(doc);
  const issues = [...shape.issues];
  if (shape.kind && shape.issues.length === 0) {
    const r = doc as AnyResource;
    if (r.kind === 'Network') issues.push(...checkNetworkSpec(r.spec).issues);
    if (r.kind === 'Endpoint') issues.push(...checkEndpointSpec(r));
    if (r.kind === 'FirewallPolicy') issues.push(...checkFirewallPolicySpec(r.spec));
    if (r.kind === 'Firewall') issues.push(...checkFirewallSpec(r.spec));
    if (r.kind === 'Router') issues.push(...checkRouterSpec(r.spec));
  }
  if (issues.length > 0) throw invalid(issues, what);
  return doc as AnyResource;
}

export { isIPv6 };
