// The lab's names and addresses, apart from the code that wires them
// (lab-underlay.ts), so `weft lab`'s flags can name them without loading it.
import { WeftError } from '../../model/errors.js';

/** Address plan (shared/TESTING.md): underlay 198.18.0.0/24, the lab namespace .1, host K .1K. */
export const UNDERLAY_GATEWAY = '198.18.0.1';
export const UNDERLAY_PREFIX_LENGTH = 24;
export const CONTROLLER_PORT = 7400;
export const MAX_HOSTS = 9;
/** Inside the lab namespace; the fixed names cannot clash with anything outside it. */
export const UNDERLAY_BRIDGE = 'br0';
/** Namespace names are prefix + "lab", "h1", "h1-NAME": keep the prefix short and filename-safe. */
export const LAB_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,23}$/;
export const LAB_CONTROLLER_ADDRESS = `${UNDERLAY_GATEWAY}:${CONTROLLER_PORT}`;
export const LAB_CONTROLLER_URL = `http://${LAB_CONTROLLER_ADDRESS}`;

export function hostAddress(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_HOSTS) throw new WeftError('Invalid', `host index ${index}: use 1-${MAX_HOSTS}`);
  return `198.18.0.${10 + index}`;
}
