// Shapes of the controller's REST API that are not resources themselves:
// list envelopes and the apply request/response. Shared by the controller
// and the CLI.
import type { AnyResource, Kind } from './kinds.js';
import type { API_VERSION } from './meta.js';

export const API_PREFIX = '/api/v1';
export const HEALTH_PATH = '/healthz';
/**
 * Request bodies larger than this are refused with TooLarge (413). 16 MiB
 * holds one apply of 500 networks and 5,000 declared endpoints (about
 * 1.1 MiB of JSON) many times over, and still bounds what one request can
 * make the controller parse and hold.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface ResourceList<R extends AnyResource = AnyResource> {
  apiVersion: typeof API_VERSION;
  /** e.g. NetworkList */
  kind: `${Kind}List`;
  /** Store revision the list was read at. */
  revision: number;
  items: R[];
}

/** The label `--applyset NAME` puts on every applied resource; prune then removes the set's members the files no longer hold. */
export const APPLYSET_LABEL = 'weft.dev/applyset';

/**
 * Remove, in the same transaction as the apply, the resources that match
 * and are not among the items. Prunable kinds: Network, (declared)
 * Endpoint and FirewallPolicy; hosts belong to their agents and endpoints
 * attached by a runtime to the agent that reported them.
 */
export interface PruneRequest {
  /** Labels a resource must all carry (like kubectl -l k=v,k2=v2). */
  selector?: Record<string, string>;
  /** Apply-set name: label every item with APPLYSET_LABEL=NAME and prune the set's members not among the items. */
  applyset?: string;
  /** A pruned network's declared endpoints go with it. Attached (runtime) endpoints still block. */
  cascade?: boolean;
}

export interface ApplyRequest {
  items: unknown[];
  /** Validate and compute the results without storing anything. */
  dryRun?: boolean;
  /** Return the before (`live`) and after (`merged`) view of every result, for `weft diff`. */
  diff?: boolean;
  prune?: PruneRequest;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

/**
 * A resource as a diff shows it: labels and the effective spec, i.e. the
 * spec with what the controller fills in (gateway, VNI, MTU) when the
 * document leaves it out. `defaulted` lists the JSON pointers of those
 * filled-in fields, so a reader can tell them from fields the user set.
 */
export interface ResourceView {
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  defaulted?: string[];
}

export interface ApplyItemResult {
  kind: Kind;
  name: string;
  action: ApplyAction;
  /** With `diff`: the stored resource before this apply (absent when it is created). */
  live?: ResourceView;
  /** With `diff`: the resource as this apply leaves it. */
  merged?: ResourceView;
}

export interface PrunedItem {
  kind: Kind;
  name: string;
  /** Set when the resource goes only because `cascade` removes the dependants of a pruned network. */
  cascadeFrom?: string;
  /** With `diff`: the resource being removed. */
  live?: ResourceView;
}

export interface ApplyResult {
  results: ApplyItemResult[];
  /** Resources the prune removed (or would remove, on a dry run); present when the request asked to prune. */
  pruned?: PrunedItem[];
  /** Store revision after the apply (unchanged when nothing changed or on a dry run). */
  revision: number;
  dryRun?: boolean;
}
