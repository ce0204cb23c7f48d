// One CNI call, checked: the CNI_* environment and the plugin configuration
// on stdin (SPEC.md sections 1-3, CONVENTIONS.md) become a CniRequest, or a
// CniError whose code comes from the spec's table and whose text says what
// is wrong, where (the variable or the field path) and how to fix it.
import { isIPv4, isIPv6 } from '../ip.js';
import { IFNAME_MAX } from '../kernel-names.js';
import { IFNAME_PATTERN, MAC_PATTERN } from '../kinds.js';
import { DNS_LABEL_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from '../meta.js';
import { CniError, truncatedJson } from './cni-error.js';
import {
  CNI_CODE, CNI_COMMANDS, CNI_VERSIONS, LATEST_CNI_VERSION, isPlausibleCniVersion, isSupportedCniVersion,
  type CniAttachmentRef, type CniCommand, type CniDns, type CniInterface, type CniIpConfig, type CniK8sArgs, type CniRequest,
  type CniResult, type CniRoute, type CniVersion,
} from './cni-types.js';

/** The spec's container ID syntax; weft's Endpoint takes at most 128 characters. */
export const CONTAINER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const CONTAINER_ID_MAX = 128;
/** PATH_MAX without the NUL. */
export const NETNS_MAX = 4095;
/** sun_path holds 108 bytes with the NUL. */
export const AGENT_SOCKET_MAX = 107;
export const TIMEOUT_SECONDS_MAX = 600;
/** The agent refuses more labels than this on an attachment. */
export const MAX_LABELS = 64;
/** The keys weft reads from CNI_ARGS; others need IgnoreUnknown=1. */
export const CNI_ARGS_KEYS = ['IP', 'MAC', 'IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID'] as const;
/** The top-level configuration fields weft reads (besides reserved `cni.dev/` keys). */
export const CNI_CONFIG_FIELDS = [
  'cniVersion', 'cniVersions', 'name', 'type', 'network', 'agentSocket', 'timeoutSeconds', 'capabilities', 'runtimeConfig', 'args',
  'prevResult', 'dns', 'disableCheck', 'disableGC', 'loadOnlyInlinedPlugins', 'cni.dev/valid-attachments',
] as const;

const VALID_ATTACHMENTS = 'cni.dev/valid-attachments';

/**
 * Fields of other plugins (bridge, ptp, ...) that weft could be meant to
 * honour but does not: refused with code 2 and where weft sets the thing.
 */
const UNSUPPORTED_HINTS: Record<string, string> = {
  ipam: 'weft allocates addresses from the weft network\'s subnet: remove "ipam", and pass runtimeConfig.ips or args.cni.ips to ask for an address',
  ipMasq: 'weft does not masquerade: remove "ipMasq"',
  mtu: 'set spec.mtu on the weft network',
  bridge: 'weft names and manages the bridge of each network itself: remove "bridge"',
  isGateway: 'the bridge always holds the gateway that spec.gateway of the weft network sets: remove "isGateway"',
  isDefaultGateway: 'weft always adds a default route via the network\'s gateway: remove "isDefaultGateway"',
  hairpinMode: 'weft does not configure hairpin mode: remove "hairpinMode"',
  promiscMode: 'weft does not put bridges in promiscuous mode: remove "promiscMode"',
  forceAddress: 'remove "forceAddress"',
  vlan: 'weft networks are VXLAN segments: remove "vlan"',
  vlanTrunk: 'weft networks are VXLAN segments: remove "vlanTrunk"',
  preserveDefaultVlan: 'remove "preserveDefaultVlan"',
  macspoofchk: 'remove "macspoofchk"',
  enabledad: 'remove "enabledad"',
  master: 'weft picks the underlay itself: remove "master"',
  mode: 'remove "mode"',
  subnet: 'set spec.subnet on the weft network',
  gateway: 'set spec.gateway on the weft network',
  vni: 'set spec.vni on the weft network',
  plugins: 'this is a whole network configuration list: the runtime must pass the one plugin configuration of weft from it',
};

type Json = Record<string, unknown>;

interface Problem {
  code: number;
  /** the environment variable or the field path, e.g. runtimeConfig.ips[0] */
  where: string;
  what: string;
  fix?: string;
}

const utf8 = new TextEncoder();
const utf8Length = (s: string) => utf8.encode(s).length;

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `runtimeConfig` + `ips` -> runtimeConfig.ips; 0 -> [0]; odd keys quoted: args.labels["a/b"]. */
function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (base === '') return key;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function problemText(p: Problem): string {
  return `${p.where}: ${p.what}${p.fix ? ` (${p.fix})` : ''}`;
}

/** Every problem found in one phase; the first one decides the CNI code. */
class Problems {
  readonly list: Problem[] = [];

  add(code: number, where: string, what: string, fix?: string): undefined {
    const p: Problem = { code, where, what };
    if (fix !== undefined) p.fix = fix;
    this.list.push(p);
    return undefined;
  }

  get count(): number {
    return this.list.length;
  }

  throwIfAny(): void {
    const [first, ...rest] = this.list;
    if (!first) return;
    const others = [...new Set(rest.map((p) => p.where))];
    const more = rest.length === 0 ? '' : ` (and ${rest.length} more: ${others.join(', ')})`;
    // Runtimes print "msg; details": details carry the first problem's fix, then every other problem.
    const details = [first.fix, ...rest.map(problemText)].filter((t): t is string => t !== undefined).join('; ');
    throw new CniError(first.code, `${first.where}: ${first.what}${more}`, details);
  }

  string(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): string | undefined {
    if (typeof v === 'string') return v;
    return this.add(code, where, `must be a string, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  boolean(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): boolean | undefined {
    if (typeof v === 'boolean') return v;
    return this.add(code, where, `must be true or false, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  uint(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): number | undefined {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    return this.add(code, where, `must be an integer >= 0, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  object(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): Json | undefined {
    if (isObject(v)) return v;
    return this.add(code, where, `must be an object, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  array(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): unknown[] | undefined {
    if (Array.isArray(v)) return v;
    return this.add(code, where, `must be an array, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  /** An array of strings; undefined (and problems) when it is not one. */
  strings(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): string[] | undefined {
    const a = this.array(v, where, code);
    if (!a) return undefined;
    const before = this.count;
    const out = a.map((x, i) => this.string(x, at(where, i), code));
    return this.count === before ? (out as string[]) : undefined;
  }
}

function fail(code: number, where: string, what: string, fix?: string): never {
  const p = new Problems();
  p.add(code, where, what, fix);
  p.throwIfAny();
  throw new Error('unreachable');
}

/** Edit distance, for "did you mean" on misspelled fields. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = d[j] as number;
      d[j] = Math.min(up + 1, (d[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return d[b.length] as number;
}

function suggestField(word: string): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const f of CNI_CONFIG_FIELDS) {
    const dd = distance(word.toLowerCase(), f.toLowerCase());
    if (dd < bestD) [best, bestD] = [f, dd];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

// ---- environment ---------------------------------------------------------------------------

function parseCommand(v: string | undefined): CniCommand {
  const allowed = `one of ${CNI_COMMANDS.join(', ')}`;
  if (v === undefined || v === '') fail(CNI_CODE.InvalidEnv, 'CNI_COMMAND', 'is not set', `the runtime must set CNI_COMMAND to ${allowed}`);
  const command = CNI_COMMANDS.find((c) => c === v);
  if (command) return command;
  const upper = CNI_COMMANDS.find((c) => c === v.toUpperCase());
  fail(CNI_CODE.InvalidEnv, 'CNI_COMMAND', `${JSON.stringify(v)} is not a CNI command`, upper ? `commands are upper case: ${upper}` : `use ${allowed}`);
}

/** What each command needs from the environment (spec section 2). */
const ENV_NEEDS: Record<CniCommand, { containerId: boolean; netns: 'required' | 'optional' | 'unused'; ifname: boolean }> = {
  ADD: { containerId: true, netns: 'required', ifname: true },
  CHECK: { containerId: true, netns: 'required', ifname: true },
  DEL: { containerId: true, netns: 'optional', ifname: true },
  STATUS: { containerId: false, netns: 'unused', ifname: false },
  GC: { containerId: false, netns: 'unused', ifname: false },
  VERSION: { containerId: false, netns: 'unused', ifname: false },
};

type Check = { what: string; fix: string } | undefined;

function checkContainerId(s: string): Check {
  const fix = `use 1-${CONTAINER_ID_MAX} characters: letters, digits, "_", "." or "-", starting with a letter or digit`;
  if (s.length > CONTAINER_ID_MAX) return { what: `is ${s.length} characters long, at most ${CONTAINER_ID_MAX} are allowed`, fix };
  if (!CONTAINER_ID_PATTERN.test(s)) return { what: `${truncatedJson(s)} is not a valid container ID`, fix };
  return undefined;
}

function checkNetns(s: string): Check {
  const fix = 'pass the path of the network namespace, e.g. /run/netns/NAME or /proc/PID/ns/net';
  if (!s.startsWith('/')) return { what: `${truncatedJson(s)} is not an absolute path`, fix };
  if (s.length > NETNS_MAX) return { what: `is ${s.length} characters long, at most ${NETNS_MAX} are allowed`, fix };
  if (s.includes('\0')) return { what: 'contains a NUL character', fix };
  if (s.split('/').some((seg) => seg === '.' || seg === '..')) return { what: `${truncatedJson(s)} has a "." or ".." segment`, fix: 'pass the canonical path' };
  return undefined;
}

const IFNAME = new RegExp(IFNAME_PATTERN);

/** The kernel's rules for interface names (dev_valid_name), then weft's stricter IFNAME_PATTERN. */
function checkIfname(s: string): Check {
  const weft = `use 1-${IFNAME_MAX} characters: letters, digits, "_", "." or "-", starting with a letter or digit`;
  const bytes = utf8Length(s);
  if (bytes > IFNAME_MAX) return { what: `${truncatedJson(s)} is ${bytes} bytes long, the kernel allows at most ${IFNAME_MAX}`, fix: weft };
  if (s === '.' || s === '..') return { what: `${JSON.stringify(s)} is not a usable interface name`, fix: weft };
  const bad = /[/:\s]/.exec(s)?.[0];
  if (bad !== undefined) return { what: `${JSON.stringify(s)} contains ${JSON.stringify(bad)}, which the kernel refuses in interface names`, fix: weft };
  if (!IFNAME.test(s)) return { what: `${JSON.stringify(s)} is not an interface name weft accepts`, fix: weft };
  return undefined;
}

interface EnvPart {
  containerId?: string;
  netns?: string;
  ifname?: string;
  cniArgs: Map<string, string>;
}

function parseEnv(command: CniCommand, env: Record<string, string | undefined>, p: Problems): EnvPart {
  const needs = ENV_NEEDS[command];
  const required = ['CNI_CONTAINERID', ...(needs.netns === 'required' ? ['CNI_NETNS'] : []), 'CNI_IFNAME'];
  const missing: string[] = [];
  const bad = new Problems();
  const take = (name: string, check: (s: string) => Check, isRequired: boolean): string | undefined => {
    const v = env[name];
    if (v === undefined || v === '') {
      if (isRequired) missing.push(name);
      return undefined;
    }
    const problem = check(v);
    return problem ? bad.add(CNI_CODE.InvalidEnv, name, problem.what, problem.fix) : v;
  };
  const out: EnvPart = { cniArgs: new Map() };
  if (needs.containerId) out.containerId = take('CNI_CONTAINERID', checkContainerId, true);
  if (needs.netns !== 'unused') out.netns = take('CNI_NETNS', checkNetns, needs.netns === 'required');
  if (needs.ifname) out.ifname = take('CNI_IFNAME', checkIfname, true);
  if (needs.containerId) out.cniArgs = parseCniArgs(env.CNI_ARGS, bad);
  if (missing.length > 0) {
    p.add(CNI_CODE.InvalidEnv, missing.join(', '), missing.length === 1 ? 'is not set' : 'are not set', `the runtime must set ${required.join(', ')} for ${command}`);
  }
  p.list.push(...bad.list);
  return out;
}

/** "K=V;K2=V2" (CONVENTIONS.md); unknown keys are refused unless IgnoreUnknown is 1/true. */
function parseCniArgs(text: string | undefined, p: Problems): Map<string, string> {
  const args = new Map<string, string>();
  if (text === undefined || text === '') return args;
  const syntax = 'write CNI_ARGS as KEY=VALUE pairs separated by ";", e.g. IP=10.1.0.5;MAC=02:00:00:00:00:01';
  text.split(';').forEach((pair, i) => {
    if (pair === '') return; // a trailing or doubled ";"
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      p.add(CNI_CODE.InvalidEnv, 'CNI_ARGS', `pair ${i + 1} ${truncatedJson(pair)} is not KEY=VALUE`, syntax);
      return;
    }
    args.set(pair.slice(0, eq), pair.slice(eq + 1));
  });
  let ignoreUnknown = false;
  const flag = args.get('IgnoreUnknown');
  if (flag !== undefined) {
    const f = flag.toLowerCase();
    if (f === '1' || f === 'true') ignoreUnknown = true;
    else if (f !== '0' && f !== 'false') p.add(CNI_CODE.InvalidEnv, 'CNI_ARGS', `IgnoreUnknown=${flag} is not a boolean`, 'use IgnoreUnknown=1 or IgnoreUnknown=true');
  }
  if (!ignoreUnknown) {
    for (const key of args.keys()) {
      if (!(CNI_ARGS_KEYS as readonly string[]).includes(key)) {
        p.add(CNI_CODE.InvalidEnv, 'CNI_ARGS', `unknown key ${key}`, `weft reads ${CNI_ARGS_KEYS.join(', ')}: add IgnoreUnknown=1 to CNI_ARGS to pass other keys`);
      }
    }
  }
  return args;
}

// ---- configuration -------------------------------------------------------------------------

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function jsonErrorWhere(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  const pos = /at position (\d+)/.exec(message)?.[1];
  if (pos !== undefined) return `${message} (${lineColumn(text, Number(pos))})`;
  if (/end of JSON input/.test(message)) return `${message} (the text ends at ${lineColumn(text, text.length)}: is it cut short?)`;
  return message; // V8 quotes the text around the bad token
}

function decodeConfig(stdin: string): Json {
  const fix = 'the runtime must write the plugin configuration, a JSON object, on stdin';
  if (stdin.trim() === '') fail(CNI_CODE.DecodeFailure, 'stdin', 'is empty', fix);
  let doc: unknown;
  try {
    doc = JSON.parse(stdin);
  } catch (e: unknown) {
    fail(CNI_CODE.DecodeFailure, 'stdin', `is not valid JSON: ${jsonErrorWhere(e, stdin)}`, 'fix the syntax of the network configuration file');
  }
  if (!isObject(doc)) fail(CNI_CODE.DecodeFailure, 'stdin', `must be a JSON object (the plugin configuration), got ${kindOf(doc)}`, fix);
  return doc;
}

function parseVersion(conf: Json, command: CniCommand): CniVersion {
  const supported = CNI_VERSIONS.join(', ');
  const v = conf.cniVersion;
  if (v === undefined) fail(CNI_CODE.InvalidConfig, 'cniVersion', 'is missing', `set "cniVersion" to one of ${supported}`);
  if (typeof v !== 'string') fail(CNI_CODE.InvalidConfig, 'cniVersion', `must be a string, got ${kindOf(v)} ${truncatedJson(v, 40)}`, `use one of ${supported}`);
  if (!isSupportedCniVersion(v)) {
    fail(CNI_CODE.IncompatibleVersion, 'cniVersion', `${truncatedJson(v)} is not a version weft speaks`, `weft supports ${supported}: set cniVersion to one of them`);
  }
  if ((command === 'STATUS' || command === 'GC') && v !== '1.1.0') {
    fail(CNI_CODE.IncompatibleVersion, 'cniVersion', `${command} needs CNI 1.1.0, the configuration says ${v}`, 'set "cniVersion": "1.1.0" in the network configuration to use STATUS and GC');
  }
  return v;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
const DNS_LABEL_FIX = 'a DNS label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit';

function isDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

/** The weft network: `network`, else `name` when that is a DNS label. */
function parseNetwork(conf: Json, name: string | undefined, p: Problems): string | undefined {
  if (conf.network !== undefined) {
    const network = p.string(conf.network, 'network');
    if (network === undefined) return undefined;
    if (!isDnsLabel(network)) return p.add(CNI_CODE.InvalidConfig, 'network', `${truncatedJson(network)} is not a weft network name`, DNS_LABEL_FIX);
    return network;
  }
  if (name === undefined) return undefined;
  if (!isDnsLabel(name)) {
    return p.add(
      CNI_CODE.InvalidConfig,
      'network',
      `is not set and the configuration's name ${truncatedJson(name)} is not a weft network name`,
      `set "network" to the weft network to attach to, ${DNS_LABEL_FIX}`,
    );
  }
  return name;
}

function checkTopLevelFields(conf: Json, p: Problems): void {
  for (const [key, value] of Object.entries(conf)) {
    if ((CNI_CONFIG_FIELDS as readonly string[]).includes(key)) continue;
    // Reserved for the runtime (spec section 1): not the administrator's to remove, so not refused.
    if (key.startsWith('cni.dev/')) continue;
    const hint = Object.hasOwn(UNSUPPORTED_HINTS, key) ? UNSUPPORTED_HINTS[key] : undefined;
    if (hint !== undefined) {
      p.add(CNI_CODE.UnsupportedField, key, `is not supported by weft (value ${truncatedJson(value)})`, hint);
    } else {
      const near = suggestField(key);
      const fix = near ? `did you mean "${near}"?` : `weft reads ${CNI_CONFIG_FIELDS.join(', ')}: remove it`;
      p.add(CNI_CODE.UnsupportedField, key, `is an unknown field (value ${truncatedJson(value)})`, fix);
    }
  }
}

function parseAgentSocket(v: unknown, p: Problems): void {
  if (v === undefined) return;
  const s = p.string(v, 'agentSocket');
  if (s === undefined) return;
  const fix = 'the absolute path of the weft agent\'s unix socket, e.g. /run/weft/agent.sock';
  if (!s.startsWith('/')) p.add(CNI_CODE.InvalidConfig, 'agentSocket', `${truncatedJson(s)} is not an absolute path`, fix);
  else if (utf8Length(s) > AGENT_SOCKET_MAX) p.add(CNI_CODE.InvalidConfig, 'agentSocket', `is longer than ${AGENT_SOCKET_MAX} bytes, the limit of unix socket paths`, 'use a shorter path');
  else if (s.includes('\0')) p.add(CNI_CODE.InvalidConfig, 'agentSocket', 'contains a NUL character', fix);
}

function parseTimeout(v: unknown, p: Problems): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > TIMEOUT_SECONDS_MAX) {
    p.add(CNI_CODE.InvalidConfig, 'timeoutSeconds', `must be an integer from 1 to ${TIMEOUT_SECONDS_MAX}, got ${truncatedJson(v, 40)}`, 'the seconds the plugin waits for the weft agent, 30 by default');
  }
}

function parseCapabilities(v: unknown, p: Problems): void {
  if (v === undefined) return;
  const o = p.object(v, 'capabilities');
  if (!o) return;
  for (const [k, val] of Object.entries(o)) p.boolean(val, at('capabilities', k));
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const DNS_FIELDS = ['nameservers', 'domain', 'search', 'options'];

/**
 * `dns` of the configuration (strict: values checked, unknown keys refused)
 * or of a prevResult (shape only, code 6: another plugin wrote it).
 */
function parseDns(v: unknown, where: string, p: Problems, strict: boolean): CniDns | undefined {
  const code = strict ? CNI_CODE.InvalidConfig : CNI_CODE.DecodeFailure;
  const o = p.object(v, where, code);
  if (!o) return undefined;
  const before = p.count;
  const out: CniDns = {};
  if (strict) {
    for (const [k, val] of Object.entries(o)) {
      if (!DNS_FIELDS.includes(k)) p.add(CNI_CODE.UnsupportedField, at(where, k), `is an unknown field (value ${truncatedJson(val)})`, `dns takes ${DNS_FIELDS.join(', ')}`);
    }
  }
  const list = (key: string, check: (s: string) => string | undefined, fix: string): string[] | undefined => {
    if (o[key] === undefined) return undefined;
    const items = p.strings(o[key], at(where, key), code);
    if (items && strict) items.forEach((s, i) => {
      const problem = check(s);
      if (problem !== undefined) p.add(CNI_CODE.InvalidConfig, at(at(where, key), i), problem, fix);
    });
    return items;
  };
  const nameservers = list('nameservers', (s) => (isIPv4(s) || isIPv6(s) ? undefined : `${truncatedJson(s)} is not an IP address`), 'write IPv4 or IPv6 addresses, e.g. 10.1.0.1');
  const search = list('search', (s) => (DNS_NAME.test(s) ? undefined : `${truncatedJson(s)} is not a domain name`), 'write domain names, e.g. svc.example.com');
  const options = list('options', (s) => (/^\S+$/.test(s) ? undefined : `${truncatedJson(s)} is not a resolver option`), 'write resolv.conf options without spaces, e.g. ndots:5');
  let domain: string | undefined;
  if (o.domain !== undefined) {
    domain = p.string(o.domain, at(where, 'domain'), code);
    if (domain !== undefined && strict && !DNS_NAME.test(domain)) {
      p.add(CNI_CODE.InvalidConfig, at(where, 'domain'), `${truncatedJson(domain)} is not a domain name`, 'write a domain name, e.g. example.com');
    }
  }
  if (p.count !== before) return undefined;
  if (nameservers) out.nameservers = nameservers;
  if (domain !== undefined) out.domain = domain;
  if (search) out.search = search;
  if (options) out.options = options;
  return out;
}

const MAC = new RegExp(MAC_PATTERN);

function parseMac(v: unknown, where: string, code: number, p: Problems): string | undefined {
  const s = p.string(v, where, code);
  if (s === undefined) return undefined;
  const fix = 'six hex octets separated by ":", unicast, e.g. 02:42:ac:11:00:02';
  if (!MAC.test(s)) return p.add(code, where, `${truncatedJson(s)} is not a MAC address`, fix);
  if (parseInt(s.slice(0, 2), 16) & 1) return p.add(code, where, `${s} is a multicast MAC; an interface needs a unicast address`, fix);
  if (/^(00:){5}00$/.test(s)) return p.add(code, where, 'the all-zero MAC is not a usable address', fix);
  return s.toLowerCase();
}

interface AddressPick {
  ip: string;
  prefixLength?: number;
}

/** Requested addresses ("a.b.c.d" or "a.b.c.d/len"): weft gives an interface exactly one IPv4 address. */
function parseIps(entries: unknown[], where: string, entryWhere: (i: number) => string, code: number, p: Problems): AddressPick | undefined {
  const before = p.count;
  const fix = 'request one IPv4 address, optionally with its prefix length: 10.1.0.5 or 10.1.0.5/24';
  const found: AddressPick[] = [];
  entries.forEach((entry, i) => {
    const w = entryWhere(i);
    const s = p.string(entry, w, code);
    if (s === undefined) return;
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(s);
    const addr = m?.[1] ?? s;
    if (isIPv6(addr)) {
      p.add(code, w, `${truncatedJson(s)} is an IPv6 address; weft gives each interface one IPv4 address`, 'remove the IPv6 address');
      return;
    }
    if (!m || !isIPv4(addr)) {
      p.add(code, w, `${truncatedJson(s)} is not an IPv4 address`, fix);
      return;
    }
    const pick: AddressPick = { ip: addr };
    if (m[2] !== undefined) {
      const length = Number(m[2]);
      if (length > 32) {
        p.add(code, w, `prefix length /${length} is out of range, 0-32`, fix);
        return;
      }
      pick.prefixLength = length;
    }
    found.push(pick);
  });
  if (found.length > 1) {
    p.add(code, where, `asks for ${found.length} IPv4 addresses (${found.map((f) => f.ip).join(', ')}); weft gives each interface one IPv4 address`, 'request one address');
  }
  return p.count === before ? found[0] : undefined;
}

/** runtimeConfig.ips > args.cni.ips > CNI_ARGS IP= (CONVENTIONS.md: CNI_ARGS is ignored when args give ips). */
function pickAddress(rcIps: unknown, argIps: unknown, cniArgIp: string | undefined, p: Problems): AddressPick | undefined {
  const fromArray = (v: unknown, where: string): AddressPick | undefined | 'absent' => {
    if (v === undefined) return 'absent';
    const a = p.array(v, where);
    if (!a) return undefined;
    if (a.length === 0) return 'absent';
    return parseIps(a, where, (i) => at(where, i), CNI_CODE.InvalidConfig, p);
  };
  const rc = fromArray(rcIps, 'runtimeConfig.ips');
  if (rc !== 'absent') return rc;
  const args = fromArray(argIps, 'args.cni.ips');
  if (args !== 'absent') return args;
  if (cniArgIp === undefined) return undefined;
  const where = 'CNI_ARGS IP';
  return parseIps(cniArgIp.split(','), where, () => where, CNI_CODE.InvalidEnv, p);
}

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

interface ArgsPart {
  labels: Record<string, string>;
  ips?: unknown;
}

/** `args` (CONVENTIONS.md): args.labels {k: v}, args.cni.labels [{key, value}], args.cni.ips; the rest is ignored. */
function parseArgs(v: unknown, p: Problems): ArgsPart {
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

interface RuntimePart {
  ips?: unknown;
  mac?: unknown;
}

/** `runtimeConfig`: weft reads the `ips` and `mac` capabilities; others are for other plugins. */
function parseRuntimeConfig(v: unknown, p: Problems): RuntimePart {
  if (v === undefined) return {};
  const rc = p.object(v, 'runtimeConfig');
  if (!rc) return {};
  const out: RuntimePart = {};
  if (rc.ips !== undefined) out.ips = rc.ips;
  if (rc.mac !== undefined) out.mac = rc.mac;
  return out;
}

function parseValidAttachments(conf: Json, command: CniCommand, p: Problems): CniAttachmentRef[] | undefined {
  const where = VALID_ATTACHMENTS;
  const v = conf[where];
  if (v === undefined) {
    if (command !== 'GC') return undefined;
    return p.add(
      CNI_CODE.InvalidConfig,
      where,
      'is missing; GC needs the list of attachments still in use',
      'the runtime must pass it: an empty list detaches every attachment of this network, so weft does not assume one',
    );
  }
  if (v === null) return []; // libcni sends a nil list as null: nothing is in use
  const list = p.array(v, where);
  if (!list) return undefined;
  const before = p.count;
  const out: CniAttachmentRef[] = [];
  list.forEach((entry, i) => {
    const w = at(where, i);
    const e = p.object(entry, w);
    if (!e) return;
    const cid = e.containerID === undefined ? p.add(CNI_CODE.InvalidConfig, at(w, 'containerID'), 'is missing') : p.string(e.containerID, at(w, 'containerID'));
    const ifn = e.ifname === undefined ? p.add(CNI_CODE.InvalidConfig, at(w, 'ifname'), 'is missing') : p.string(e.ifname, at(w, 'ifname'));
    const badCid = cid === undefined ? undefined : checkContainerId(cid);
    const badIfn = ifn === undefined ? undefined : checkIfname(ifn);
    if (badCid) p.add(CNI_CODE.InvalidConfig, at(w, 'containerID'), badCid.what, badCid.fix);
    if (badIfn) p.add(CNI_CODE.InvalidConfig, at(w, 'ifname'), badIfn.what, badIfn.fix);
    if (cid !== undefined && ifn !== undefined && !badCid && !badIfn) out.push({ containerId: cid, ifname: ifn });
  });
  return p.count === before ? out : undefined;
}

// ---- results (prevResult) ------------------------------------------------------------------

/** "a.b.c.d/n" or an IPv6 "x::y/n": an address (host bits allowed) with its prefix length. */
export function parseCidr(text: string): { family: 4 | 6; ip: string; prefixLength: number } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const ip = m[1] as string;
  const prefixLength = Number(m[2]);
  if (isIPv4(ip) && prefixLength <= 32) return { family: 4, ip, prefixLength };
  if (isIPv6(ip) && prefixLength <= 128) return { family: 6, ip, prefixLength };
  return undefined;
}

const isIp = (s: string) => isIPv4(s) || isIPv6(s);

function optionalString(o: Json, key: string, where: string, p: Problems): string | undefined {
  return o[key] === undefined ? undefined : p.string(o[key], at(where, key), CNI_CODE.DecodeFailure);
}

function optionalUint(o: Json, key: string, where: string, p: Problems): number | undefined {
  return o[key] === undefined ? undefined : p.uint(o[key], at(where, key), CNI_CODE.DecodeFailure);
}

function requiredString(o: Json, key: string, where: string, p: Problems): string | undefined {
  if (o[key] === undefined) return p.add(CNI_CODE.DecodeFailure, at(where, key), 'is missing');
  return p.string(o[key], at(where, key), CNI_CODE.DecodeFailure);
}

function parseResultInterface(v: unknown, where: string, p: Problems): CniInterface | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const name = requiredString(o, 'name', where, p);
  if (name === undefined) return undefined;
  const out: CniInterface = { name };
  const mac = optionalString(o, 'mac', where, p);
  const mtu = optionalUint(o, 'mtu', where, p);
  const sandbox = optionalString(o, 'sandbox', where, p);
  const socketPath = optionalString(o, 'socketPath', where, p);
  const pciID = optionalString(o, 'pciID', where, p);
  if (mac !== undefined) out.mac = mac;
  if (mtu !== undefined) out.mtu = mtu;
  if (sandbox !== undefined) out.sandbox = sandbox;
  if (socketPath !== undefined) out.socketPath = socketPath;
  if (pciID !== undefined) out.pciID = pciID;
  return out;
}

function parseResultIp(v: unknown, where: string, interfaces: number, p: Problems): CniIpConfig | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const address = requiredString(o, 'address', where, p);
  const gateway = optionalString(o, 'gateway', where, p);
  const index = optionalUint(o, 'interface', where, p);
  const version = o.version;
  if (version !== undefined && version !== '4' && version !== '6') {
    p.add(CNI_CODE.DecodeFailure, at(where, 'version'), `must be "4" or "6", got ${truncatedJson(version, 40)}`);
  }
  if (address === undefined) return undefined;
  const cidr = parseCidr(address);
  if (!cidr) return p.add(CNI_CODE.InvalidConfig, at(where, 'address'), `${truncatedJson(address)} is not an address with a prefix length`, 'e.g. 10.1.0.5/24');
  if (gateway !== undefined && !isIp(gateway)) return p.add(CNI_CODE.InvalidConfig, at(where, 'gateway'), `${truncatedJson(gateway)} is not an IP address`);
  if (index !== undefined && index >= interfaces) {
    return p.add(CNI_CODE.InvalidConfig, at(where, 'interface'), `is ${index}, but there ${interfaces === 1 ? 'is 1 interface' : `are ${interfaces} interfaces`}`, 'it is an index into prevResult.interfaces');
  }
  const out: CniIpConfig = { address };
  if (gateway !== undefined) out.gateway = gateway;
  if (index !== undefined) out.interface = index;
  return out;
}

const ROUTE_UINTS = ['mtu', 'advmss', 'priority', 'table', 'scope'] as const;

function parseResultRoute(v: unknown, where: string, p: Problems): CniRoute | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const dst = requiredString(o, 'dst', where, p);
  const gw = optionalString(o, 'gw', where, p);
  const numbers = ROUTE_UINTS.map((key) => [key, optionalUint(o, key, where, p)] as const);
  if (dst === undefined) return undefined;
  if (!parseCidr(dst)) return p.add(CNI_CODE.InvalidConfig, at(where, 'dst'), `${truncatedJson(dst)} is not a destination prefix`, 'e.g. 0.0.0.0/0 or 10.2.0.0/16');
  if (gw !== undefined && !isIp(gw)) return p.add(CNI_CODE.InvalidConfig, at(where, 'gw'), `${truncatedJson(gw)} is not an IP address`);
  const out: CniRoute = { dst };
  if (gw !== undefined) out.gw = gw;
  for (const [key, n] of numbers) if (n !== undefined) out[key] = n;
  return out;
}

/**
 * A result of another plugin (or of a previous ADD), normalised to the 1.x
 * shape: ips[].version dropped, unknown keys dropped. Wrong JSON types are
 * code 6 (it cannot be decoded as a result), wrong values code 7.
 */
function parseResult(v: unknown, where: string, cniVersion: CniVersion, p: Problems): CniResult | undefined {
  const o = p.object(v, where, CNI_CODE.DecodeFailure);
  if (!o) return undefined;
  const before = p.count;
  const out: CniResult = { cniVersion };
  const items = (key: string) => (o[key] === undefined ? undefined : p.array(o[key], at(where, key), CNI_CODE.DecodeFailure));
  const interfaces = items('interfaces')?.map((x, i) => parseResultInterface(x, at(at(where, 'interfaces'), i), p));
  const count = interfaces?.length ?? 0;
  const ips = items('ips')?.map((x, i) => parseResultIp(x, at(at(where, 'ips'), i), count, p));
  const routes = items('routes')?.map((x, i) => parseResultRoute(x, at(at(where, 'routes'), i), p));
  const dns = o.dns === undefined ? undefined : parseDns(o.dns, at(where, 'dns'), p, false);
  if (p.count !== before) return undefined;
  if (interfaces) out.interfaces = interfaces as CniInterface[];
  if (ips) out.ips = ips as CniIpConfig[];
  if (routes) out.routes = routes as CniRoute[];
  if (dns) out.dns = dns;
  return out;
}

/** A result object (e.g. a cached ADD result), checked and normalised to the 1.x shape; throws CniError. */
export function parseCniResult(v: unknown, cniVersion: CniVersion, where = 'prevResult'): CniResult {
  const p = new Problems();
  const result = parseResult(v, where, cniVersion, p);
  p.throwIfAny();
  return result as CniResult;
}

// ---- the request ---------------------------------------------------------------------------

/** VERSION reads nothing but the input's cniVersion, and never fails on it. */
function versionRequest(stdin: string): CniRequest {
  let input: unknown;
  try {
    const doc: unknown = JSON.parse(stdin);
    if (isObject(doc)) input = doc.cniVersion;
  } catch {
    // VERSION answers whatever the input; the result then names the latest version.
  }
  const req: CniRequest = { command: 'VERSION', cniVersion: isSupportedCniVersion(input) ? input : LATEST_CNI_VERSION, configName: '', network: '', labels: {} };
  if (isPlausibleCniVersion(input)) req.inputVersion = input;
  return req;
}

function k8sArgs(args: Map<string, string>): CniK8sArgs | undefined {
  const out: CniK8sArgs = {};
  const set = (key: keyof CniK8sArgs, name: string) => {
    const v = args.get(name);
    if (v !== undefined && v !== '') out[key] = v;
  };
  set('podNamespace', 'K8S_POD_NAMESPACE');
  set('podName', 'K8S_POD_NAME');
  set('podInfraContainerId', 'K8S_POD_INFRA_CONTAINER_ID');
  set('podUid', 'K8S_POD_UID');
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Parse one plugin exec: the CNI_* environment and stdin. Throws CniError;
 * problems come in phases (command, JSON, version, environment, configuration),
 * and each phase reports all of its problems at once, the first deciding the code.
 */
export function parseCniRequest(env: Record<string, string | undefined>, stdin: string): CniRequest {
  const command = parseCommand(env.CNI_COMMAND);
  if (command === 'VERSION') return versionRequest(stdin);
  const conf = decodeConfig(stdin);
  const cniVersion = parseVersion(conf, command);

  const envProblems = new Problems();
  const e = parseEnv(command, env, envProblems);
  envProblems.throwIfAny();

  const p = new Problems();
  if (conf.type === undefined) p.add(CNI_CODE.InvalidConfig, 'type', 'is missing', 'set "type": "weft"');
  else if (conf.type !== 'weft') p.add(CNI_CODE.InvalidConfig, 'type', `is ${truncatedJson(conf.type)}, but this plugin is "weft"`, 'set "type": "weft", or have the runtime run the plugin the type names');
  let name: string | undefined;
  if (conf.name === undefined) p.add(CNI_CODE.InvalidConfig, 'name', 'is missing', 'the runtime sets it from the network configuration\'s "name"');
  else {
    name = p.string(conf.name, 'name');
    if (name !== undefined && !NAME_PATTERN.test(name)) {
      name = p.add(CNI_CODE.InvalidConfig, 'name', `${truncatedJson(name)} is not a valid network configuration name`, 'letters, digits, "_", "." or "-", starting with a letter or digit');
    }
  }
  const network = parseNetwork(conf, name, p);
  checkTopLevelFields(conf, p);
  if (conf.cniVersions !== undefined) p.strings(conf.cniVersions, 'cniVersions');
  parseAgentSocket(conf.agentSocket, p);
  parseTimeout(conf.timeoutSeconds, p);
  // Optional objects given as null are absent, as Go's encoding/json (libcni, the reference plugins) reads them.
  for (const key of ['capabilities', 'runtimeConfig', 'args', 'dns', 'prevResult']) if (conf[key] === null) delete conf[key];
  parseCapabilities(conf.capabilities, p);
  for (const flag of ['disableCheck', 'disableGC', 'loadOnlyInlinedPlugins']) if (conf[flag] !== undefined) p.boolean(conf[flag], flag);
  const rc = parseRuntimeConfig(conf.runtimeConfig, p);
  const args = parseArgs(conf.args, p);
  const dns = conf.dns === undefined ? undefined : parseDns(conf.dns, 'dns', p, true);
  const prevResult = conf.prevResult === undefined ? undefined : parseResult(conf.prevResult, 'prevResult', cniVersion, p);
  const validAttachments = parseValidAttachments(conf, command, p);
  const attaching = command === 'ADD' || command === 'CHECK' || command === 'DEL';
  const address = attaching ? pickAddress(rc.ips, args.ips, e.cniArgs.get('IP'), p) : undefined;
  let mac: string | undefined;
  if (attaching && rc.mac !== undefined) mac = parseMac(rc.mac, 'runtimeConfig.mac', CNI_CODE.InvalidConfig, p);
  else if (attaching && e.cniArgs.has('MAC')) mac = parseMac(e.cniArgs.get('MAC'), 'CNI_ARGS MAC', CNI_CODE.InvalidEnv, p);
  p.throwIfAny();

  const req: CniRequest = { command, cniVersion, configName: name as string, network: network as string, labels: args.labels };
  if (e.containerId !== undefined) req.containerId = e.containerId;
  if (e.netns !== undefined) req.netns = e.netns;
  if (e.ifname !== undefined) req.ifname = e.ifname;
  if (address) {
    req.ip = address.ip;
    if (address.prefixLength !== undefined) req.ipPrefixLength = address.prefixLength;
  }
  if (mac !== undefined) req.mac = mac;
  if (prevResult) req.prevResult = prevResult;
  if (dns) req.dns = dns;
  if (command === 'GC' && validAttachments) req.validAttachments = validAttachments;
  const k8s = k8sArgs(e.cniArgs);
  if (k8s) req.k8s = k8s;
  return req;
}
