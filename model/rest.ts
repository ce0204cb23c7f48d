// Shapes of the controller's REST API that are not resources themselves:
// list envelopes and the apply request/response. Shared by the controller
// and the CLI.
import type { AnyResource, Kind } from './kinds.js';
import type { API_VERSION } from './meta.js';

export const API_PREFIX = '/api/v1';
export const HEALTH_PATH = '/healthz';
/** Request bodies larger than this are refused with TooLarge (413). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ResourceList<R extends AnyResource = AnyResource> {
  apiVersion: typeof API_VERSION;
  /** e.g. NetworkList */
  kind: `${Kind}List`;
  /** Store revision the list was read at. */
  revision: number;
  items: R[];
}

export interface ApplyRequest {
  items: unknown[];
  /** Validate and compute the results without storing anything. */
  dryRun?: boolean;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  results: Array<{ kind: Kind; name: string; action: ApplyAction }>;
  /** Store revision after the apply (unchanged when nothing changed or on a dry run). */
  revision: number;
  dryRun?: boolean;
}
