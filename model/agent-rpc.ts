// The agent's local RPC, spoken on its unix socket by runtimes (`weft run`,
// the CNI shim, the remote driver). Newline-delimited JSON: one request
// object per line, one response per request, matched by `id`; requests on
// one connection may be in flight concurrently.
import type { ErrorBody } from './errors.js';

export const DEFAULT_AGENT_SOCKET = '/run/weft/agent.sock';
/**
 * A request line longer than this is refused (and the connection closed).
 * Room for a CNI request: up to 1 MiB of network config, JSON-escaped.
 */
export const MAX_RPC_LINE = 4 * 1024 * 1024;

/** What to do when a namespace path opens as something else than a network namespace. */
export const NOT_A_NAMESPACE_HINT =
  'not a network namespace here; a namespace bind-mounted in another mount namespace (`ip netns exec` runs its command in a private one) is seen ' +
  'elsewhere as an empty file. Hand it over as a descriptor (attach netnsFd; `weft run` does), or make it where both sides see it (`nsenter --net=...` instead of `ip netns exec`)';

export interface AttachParams {
  network: string;
  containerId: string;
  /**
   * Path of the workload's network namespace, e.g. /run/netns/x or
   * /proc/PID/ns/net. With netnsFd it only names the namespace (in the
   * result and the endpoint record); the agent does not open it.
   */
  netns: string;
  /**
   * A descriptor of the caller's own process that holds the namespace: the
   * agent takes a copy of it from the connected caller (pidfd_getfd) and
   * checks it is a network namespace. Works whatever mount namespace either
   * side is in, where a path may not (a namespace bind-mounted under
   * `ip netns exec` is invisible to everyone else).
   */
  netnsFd?: number;
  ifname?: string;
  ip?: string;
  mac?: string;
  labels?: Record<string, string>;
}

export interface AttachResult {
  endpoint: string;
  network: string;
  containerId: string;
  ifname: string;
  hostIfname: string;
  netns: string;
  /** Address with prefix length, e.g. 10.10.0.5/24. */
  address: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  /** On a dual-stack network: the IPv6 address with prefix length, e.g. fd00:10::5/64. */
  address6?: string;
  ip6?: string;
  prefixLength6?: number;
  gateway6?: string;
  mac: string;
  mtu: number;
  /** True when the container was attached already and this is that result. */
  existing: boolean;
  /** MAC of the host-side veth, when this attach made it (a CNI result lists it). */
  hostMac?: string;
}

export interface DetachParams {
  containerId: string;
  /** Default: every interface of the container. */
  ifname?: string;
  network?: string;
}

export interface DetachResult {
  detached: string[];
}

export interface ListResult {
  endpoints: AttachResult[];
}

export interface HealthResult {
  host: string;
  controller: 'connected' | 'disconnected';
  planRevision: number;
  endpoints: number;
  networks: string[];
}

/** A CNI call relayed verbatim by the CNI shim (runtime/cni/shim). */
export interface CniCallParams {
  /** The CNI_* environment variables the runtime set. */
  env: Record<string, string>;
  /** The network configuration the runtime wrote on stdin, unparsed. */
  stdin: string;
}

/** What the shim prints (`output`, JSON; null prints nothing) and its exit status. */
export interface CniCallResult {
  exitCode: number;
  output: unknown;
}

export interface RpcMethods {
  attach: { params: AttachParams; result: AttachResult };
  detach: { params: DetachParams; result: DetachResult };
  list: { params: { network?: string }; result: ListResult };
  health: { params: Record<string, never>; result: HealthResult };
  cni: { params: CniCallParams; result: CniCallResult };
}

export type RpcMethod = keyof RpcMethods;
export const RPC_METHODS: RpcMethod[] = ['attach', 'detach', 'list', 'health', 'cni'];

export interface RpcRequest<M extends RpcMethod = RpcMethod> {
  id: number | string;
  method: M;
  params: RpcMethods[M]['params'];
}

export type RpcResponse<M extends RpcMethod = RpcMethod> =
  | { id: number | string | null; result: RpcMethods[M]['result'] }
  | { id: number | string | null; error: ErrorBody };
