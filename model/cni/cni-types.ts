// The CNI protocol's data types (containernetworking/cni SPEC.md), as weft
// speaks it: spec versions 0.4.0, 1.0.0 and 1.1.0.

export const CNI_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof CNI_VERSIONS)[number];
/** The newest version weft speaks: used when a request names none we can trust. */
export const LATEST_CNI_VERSION: CniVersion = '1.1.0';

export function isSupportedCniVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (CNI_VERSIONS as readonly string[]).includes(v);
}

/**
 * Looks like a spec version ("0.3.1", "1.1.0"): three dot-separated numbers,
 * at most 32 characters. VERSION echoes such an input version; the shim uses
 * the same rule.
 */
export function isPlausibleCniVersion(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 32 && /^[0-9]+\.[0-9]+\.[0-9]+$/.test(v);
}

export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

/** The spec's well-known error codes, and weft's own (100+). */
export const CNI_CODE = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  LimitedConnectivity: 51,
  Internal: 100,
  AddressInUse: 101,
  Exhausted: 102,
  Drift: 103,
  Conflict: 104,
} as const;
export type CniCode = (typeof CNI_CODE)[keyof typeof CNI_CODE];

export interface CniInterface {
  name: string;
  mac?: string;
  /** 1.1.0 */
  mtu?: number;
  sandbox?: string;
  /** 1.1.0 */
  socketPath?: string;
  /** 1.1.0 */
  pciID?: string;
}

export interface CniIpConfig {
  /** 0.4.0 only: "4" or "6" */
  version?: '4' | '6';
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  /** 1.1.0 */
  mtu?: number;
  /** 1.1.0 */
  advmss?: number;
  /** 1.1.0 */
  priority?: number;
  /** 1.1.0 */
  table?: number;
  /** 1.1.0: 0 global, 253 link, 254 host */
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

export interface CniErrorResult {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export interface CniVersionResult {
  cniVersion: string;
  supportedVersions: string[];
}

/** One still-valid attachment named by a GC request. */
export interface CniAttachmentRef {
  containerId: string;
  ifname: string;
}

/** A checked CNI request: the environment and the plugin configuration together. */
export interface CniRequest {
  command: CniCommand;
  cniVersion: CniVersion;
  /** The configuration's `name` (the runtime's network name); '' for VERSION, which reads no configuration. */
  configName: string;
  /** The weft network: the config's `network`, or its `name` when absent; '' for VERSION. */
  network: string;
  /** ADD, DEL, CHECK */
  containerId?: string;
  /** ADD, CHECK (required); DEL (optional) */
  netns?: string;
  /** ADD, DEL, CHECK */
  ifname?: string;
  /** From runtimeConfig.ips, args.cni.ips or CNI_ARGS IP= (in that order); without prefix length. */
  ip?: string;
  /** The prefix length written with `ip` ("10.1.0.5/24" -> 24), when there was one. */
  ipPrefixLength?: number;
  /** From runtimeConfig.mac or CNI_ARGS MAC=, lower case. */
  mac?: string;
  /** From args.labels (object) and args.cni.labels ([{key, value}]). */
  labels: Record<string, string>;
  /** ADD (chained after another plugin), CHECK, DEL: normalised to the 1.x shape (no ips[].version). */
  prevResult?: CniResult;
  /** The config's `dns`, passed through into the ADD result. */
  dns?: CniDns;
  /** GC: `cni.dev/valid-attachments` */
  validAttachments?: CniAttachmentRef[];
  /** VERSION: the input's cniVersion when it looks like a version (it need not be one weft speaks). */
  inputVersion?: string;
  /** Kubernetes pod identity from CNI_ARGS (K8S_POD_*), when the runtime passed it. */
  k8s?: CniK8sArgs;
}

export interface CniK8sArgs {
  podNamespace?: string;
  podName?: string;
  podInfraContainerId?: string;
  podUid?: string;
}

/** What an ADD made, for rendering its result. */
export interface CniAttachment {
  bridge: { name: string; mac: string };
  hostIfname: string;
  hostMac: string;
  ifname: string;
  mac: string;
  mtu: number;
  netns: string;
  /** address with prefix length, e.g. 10.1.0.5/24 */
  address: string;
  gateway: string;
  /** On a dual-stack network: the IPv6 address with prefix length and the IPv6 gateway. */
  address6?: string;
  gateway6?: string;
  /** Routes made in the container; default: a default route via `gateway` (and one via `gateway6`). */
  routes?: CniRoute[];
}
