// Strict shape checks of the runtime RPC parameters: every problem gets a
// JSON-pointer path, unknown fields are refused. Checks that need state
// (the network exists, the namespace exists) live in the endpoint service.
import type { AttachParams, DetachParams } from '../../model/agent-rpc.js';
import { invalid, type FieldIssue } from '../../model/errors.js';
import { isIPv4 } from '../../model/ip.js';
import { IFNAME_PATTERN, MAC_PATTERN } from '../../model/kinds.js';
import { DNS_LABEL_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from '../../model/meta.js';
import { IFNAME_MAX, ownMacRange } from '../../model/kernel-names.js';

export const CONTAINER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const CONTAINER_ID_MAX = 128;
const NETNS_MAX = 4096;
const MAX_LABELS = 64;
const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
const IFNAME = new RegExp(IFNAME_PATTERN);
const MAC = new RegExp(MAC_PATTERN);
const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
const LABEL_VALUE = new RegExp(LABEL_VALUE_PATTERN);

type Fields = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

class Checker {
  readonly issues: FieldIssue[] = [];
  constructor(private readonly base: string) {}

  object(v: unknown, allowed: string[]): Fields | undefined {
    if (v === undefined) return {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.issues.push({ path: this.base, message: `must be an object, got ${describe(v)}` });
      return undefined;
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.issues.push({ path: `${this.base}/${k}`, message: `unknown field "${k}"`, allowed: allowed.join(', ') });
    }
    return v as Fields;
  }

  string(o: Fields, key: string, required: boolean, check?: (s: string) => string | undefined, allowed?: string): string | undefined {
    const v = o[key];
    const path = `${this.base}/${key}`;
    if (v === undefined) {
      if (required) this.issues.push({ path, message: `required field "${key}" is missing` });
      return undefined;
    }
    if (typeof v !== 'string') {
      this.issues.push({ path, message: `must be string, got ${describe(v)}`, value: v });
      return undefined;
    }
    const problem = check?.(v);
    if (problem !== undefined) {
      const issue: FieldIssue = { path, message: problem, value: v };
      if (allowed !== undefined) issue.allowed = allowed;
      this.issues.push(issue);
      return undefined;
    }
    return v;
  }

  labels(o: Fields): Record<string, string> | undefined {
    const v = o.labels;
    const path = `${this.base}/labels`;
    if (v === undefined) return undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.issues.push({ path, message: `must be an object of string values, got ${describe(v)}` });
      return undefined;
    }
    const entries = Object.entries(v as Fields);
    if (entries.length > MAX_LABELS) this.issues.push({ path, message: `at most ${MAX_LABELS} labels` });
    const out: Record<string, string> = {};
    for (const [k, val] of entries) {
      const p = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (k.length > 317 || !LABEL_KEY.test(k)) {
        this.issues.push({ path: p, message: `label key ${JSON.stringify(k)} has an invalid format`, allowed: 'letters, digits, "-", "_", "." (at most 63), optionally prefixed by a DNS name and "/"' });
      } else if (typeof val !== 'string') {
        this.issues.push({ path: p, message: `must be string, got ${describe(val)}`, value: val });
      } else if (val.length > 63 || !LABEL_VALUE.test(val)) {
        this.issues.push({ path: p, message: `label value ${JSON.stringify(val)} has an invalid format`, value: val, allowed: 'empty, or letters, digits, "-", "_", "." (at most 63), starting and ending with a letter or digit' });
      } else {
        out[k] = val;
      }
    }
    return out;
  }

  fail(what: string): never {
    throw invalid(this.issues, what);
  }
}

const checkNetwork = (s: string) => (s.length <= 63 && DNS_LABEL.test(s) ? undefined : `${JSON.stringify(s)} is not a valid network name`);
const checkContainerId = (s: string) =>
  s.length <= CONTAINER_ID_MAX && CONTAINER_ID_PATTERN.test(s) ? undefined : `${JSON.stringify(s)} is not a valid container ID`;
const containerIdAllowed = `1-${CONTAINER_ID_MAX} characters: letters, digits, "_", "." or "-", starting with a letter or digit`;

export function checkIfname(s: string): string | undefined {
  if (Buffer.byteLength(s) > IFNAME_MAX) return `${JSON.stringify(s)} is longer than ${IFNAME_MAX} bytes (the kernel limit)`;
  if (!IFNAME.test(s)) return `${JSON.stringify(s)} is not a valid interface name`;
  return undefined;
}

function checkNetns(s: string): string | undefined {
  if (!s.startsWith('/')) return 'must be an absolute path, e.g. /run/netns/NAME or /proc/PID/ns/net';
  if (s.length > NETNS_MAX || s.includes('\0')) return 'is not a usable path';
  if (s.split('/').some((seg) => seg === '..' || seg === '.')) return 'must not contain "." or ".." segments';
  return undefined;
}

function checkMac(s: string): string | undefined {
  if (!MAC.test(s)) return `${JSON.stringify(s)} is not a MAC address`;
  const first = parseInt(s.slice(0, 2), 16);
  if (first & 1) return `${s} is a multicast MAC; endpoints need a unicast address`;
  if (/^(00:){5}00$/.test(s)) return 'the all-zero MAC is not a usable address';
  const own = ownMacRange(s);
  if (own !== undefined) return `${s} is in the range weft keeps for ${own}; leave the MAC out (weft derives one) or use another locally administered MAC, e.g. 02:42:...`;
  return undefined;
}

const checkIp = (s: string) => (isIPv4(s) ? undefined : `${JSON.stringify(s)} is not an IPv4 address`);

const ATTACH_FIELDS = ['network', 'containerId', 'netns', 'ifname', 'ip', 'mac', 'labels'];

/** Shape of attach params; throws WeftError('Invalid') listing every problem. */
export function parseAttachParams(v: unknown, base = '/params'): AttachParams {
  const c: Checker = new Checker(base);
  const o = c.object(v, ATTACH_FIELDS);
  if (!o) c.fail('attach parameters');
  const network = c.string(o, 'network', true, checkNetwork, 'a DNS label: lowercase letters, digits and "-"');
  const containerId = c.string(o, 'containerId', true, checkContainerId, containerIdAllowed);
  const netns = c.string(o, 'netns', true, checkNetns);
  const ifname = c.string(o, 'ifname', false, checkIfname, `1-${IFNAME_MAX} bytes: letters, digits, "_", "." or "-"`);
  const ip = c.string(o, 'ip', false, checkIp);
  const mac = c.string(o, 'mac', false, checkMac, 'six hex octets separated by ":", unicast, e.g. 02:42:ac:11:00:02');
  const labels = c.labels(o);
  if (c.issues.length > 0 || network === undefined || containerId === undefined || netns === undefined) c.fail('attach parameters');
  const out: AttachParams = { network, containerId, netns };
  if (ifname !== undefined) out.ifname = ifname;
  if (ip !== undefined) out.ip = ip;
  if (mac !== undefined) out.mac = mac.toLowerCase();
  if (labels !== undefined) out.labels = labels;
  return out;
}

export function parseDetachParams(v: unknown, base = '/params'): DetachParams {
  const c: Checker = new Checker(base);
  const o = c.object(v, ['containerId', 'ifname', 'network']);
  if (!o) c.fail('detach parameters');
  const containerId = c.string(o, 'containerId', true, checkContainerId, containerIdAllowed);
  const ifname = c.string(o, 'ifname', false, checkIfname);
  const network = c.string(o, 'network', false, checkNetwork);
  if (c.issues.length > 0 || containerId === undefined) c.fail('detach parameters');
  const out: DetachParams = { containerId };
  if (ifname !== undefined) out.ifname = ifname;
  if (network !== undefined) out.network = network;
  return out;
}

export function parseListParams(v: unknown, base = '/params'): { network?: string } {
  const c: Checker = new Checker(base);
  const o = c.object(v, ['network']);
  if (!o) c.fail('list parameters');
  const network = c.string(o, 'network', false, checkNetwork);
  if (c.issues.length > 0) c.fail('list parameters');
  return network === undefined ? {} : { network };
}

export function parseHealthParams(v: unknown, base = '/params'): Record<string, never> {
  const c: Checker = new Checker(base);
  c.object(v, []);
  if (c.issues.length > 0) c.fail('health parameters');
  return {};
}
