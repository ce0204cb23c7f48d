// One CNI call, checked: the CNI_* environment and the plugin configuration
// on stdin (SPEC.md sections 1-3, CONVENTIONS.md) become a CniRequest, or a
// CniError whose code comes from the spec's table and whose text says what
// is wrong, where (the variable or the field path) and how to fix it. The
// phases and their order live here; each part is checked in its own module.
import { pickAddress, parseMac } from './cni-address.js';
import { parseAgentSocket, parseTimeout } from './cni-agent-options.js';
import { parseArgs } from './cni-config-args.js';
import { decodeConfig, parseVersion } from './cni-config-decode.js';
import { checkTopLevelFields } from './cni-config-fields.js';
import { parseDns } from './cni-dns.js';
import { parseCommand, parseEnv } from './cni-env.js';
import { truncatedJson } from './cni-error.js';
import { NAME_PATTERN, parseNetwork } from './cni-network-name.js';
import { isObject, Problems } from './cni-problems.js';
import { parseResult } from './cni-result-parse.js';
import { parseCapabilities, parseRuntimeConfig } from './cni-runtime-config.js';
import { parseValidAttachments } from './cni-valid-attachments.js';
import {
  CNI_CODE, LATEST_CNI_VERSION, isPlausibleCniVersion, isSupportedCniVersion, type CniK8sArgs, type CniRequest,
} from './cni-types.js';

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
