// The CNI_* environment of one plugin exec (SPEC.md section 2): the command,
// the container ID, netns and interface name each command needs, and the
// CNI_ARGS pairs (CONVENTIONS.md).
import { IFNAME_MAX } from '../kernel-names.js';
import { IFNAME_PATTERN } from '../kinds.js';
import { truncatedJson } from './cni-error.js';
import { fail, Problems, utf8Length } from './cni-problems.js';
import { CNI_CODE, CNI_COMMANDS, type CniCommand } from './cni-types.js';

/** The spec's container ID syntax; weft's Endpoint takes at most 128 characters. */
export const CONTAINER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const CONTAINER_ID_MAX = 128;
/** PATH_MAX without the NUL. */
export const NETNS_MAX = 4095;

/** The keys weft reads from CNI_ARGS; others need IgnoreUnknown=1. */
const CNI_ARGS_KEYS = ['IP', 'MAC', 'IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID'] as const;

export function parseCommand(v: string | undefined): CniCommand {
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

export type Check = { what: string; fix: string } | undefined;

export function checkContainerId(s: string): Check {
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
export function checkIfname(s: string): Check {
  const weft = `use 1-${IFNAME_MAX} characters: letters, digits, "_", "." or "-", starting with a letter or digit`;
  const bytes = utf8Length(s);
  if (bytes > IFNAME_MAX) return { what: `${truncatedJson(s)} is ${bytes} bytes long, the kernel allows at most ${IFNAME_MAX}`, fix: weft };
  if (s === '.' || s === '..') return { what: `${JSON.stringify(s)} is not a usable interface name`, fix: weft };
  const bad = /[/:\s]/.exec(s)?.[0];
  if (bad !== undefined) return { what: `${JSON.stringify(s)} contains ${JSON.stringify(bad)}, which the kernel refuses in interface names`, fix: weft };
  if (!IFNAME.test(s)) return { what: `${JSON.stringify(s)} is not an interface name weft accepts`, fix: weft };
  return undefined;
}

export interface EnvPart {
  containerId?: string;
  netns?: string;
  ifname?: string;
  cniArgs: Map<string, string>;
}

export function parseEnv(command: CniCommand, env: Record<string, string | undefined>, p: Problems): EnvPart {
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
