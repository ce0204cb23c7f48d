// One error type for everything the kernel refuses. The datapath's callers
// branch on three questions only (is it gone, is it there already, can this
// kernel do it at all), so those are predicates here and nowhere else.
// node_netlink reports kernel errors as plain `Error("Request rejected:
// EEXIST")`; that string is parsed in fromNetlink() and in no other place.
import { constants as osConstants } from 'node:os';

const NOT_FOUND = new Set(['ENODEV', 'ENOENT', 'ESRCH', 'EADDRNOTAVAIL']);
const ALREADY_EXISTS = new Set(['EEXIST']);
// Unsupported is terminal: retrying cannot make the kernel grow a feature.
const UNSUPPORTED = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'ENOSYS', 'ENOPKG']);

// Linux gives some errnos two names; keep the kernel's (it returns
// -EOPNOTSUPP, Node's getSystemErrorName says ENOTSUP) so the fake and the
// real kernel report the same string.
const CANONICAL: Readonly<Record<string, string>> = { ENOTSUP: 'EOPNOTSUPP', EWOULDBLOCK: 'EAGAIN', EDEADLOCK: 'EDEADLK' };

function canonical(name: string): string {
  return CANONICAL[name] ?? name;
}

/** errno number -> symbolic name (e.g. 17 -> 'EEXIST'), from Node's table. */
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(osConstants.errno).map(([name, value]) => [value, canonical(name)] as const),
);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** How messages name kernel objects; shared so the fake says exactly what the kernel path says. */
export const kernelObject = {
  bridge: (name: string): string => `bridge "${name}"`,
  veth: (name: string): string => `veth "${name}"`,
  vxlan: (name: string): string => `vxlan "${name}"`,
  macvlan: (name: string): string => `macvlan "${name}"`,
  peerOf: (name: string): string => `peer of veth "${name}"`,
  link: (index: number): string => `link ${index}`,
  linkName: (name: string): string => `link "${name}"`,
  address: (address: string, prefixLength: number, index: number): string =>
    `address ${address}/${prefixLength} on link ${index}`,
  route: (r: { dst: string; gateway?: string; oif?: number }): string =>
    `route ${r.dst}${r.gateway === undefined ? '' : ` via ${r.gateway}`}${r.oif === undefined ? '' : ` dev ${r.oif}`}`,
  netns: (nameOrPath: string): string => `netns "${nameOrPath}"`,
  fdb: (e: { index: number; mac: string; dst: string }): string => `fdb ${e.mac} dst ${e.dst} on link ${e.index}`,
  neigh: (e: { index: number; ip: string }): string => `neighbour ${e.ip} on link ${e.index}`,
  addressOwner: (address: string): string => `owner of address ${address}`,
  sysctl: (key: string): string => `sysctl ${key}`,
} as const;

export class DatapathError extends Error {
  /** what weft tried: 'create', 'delete', 'set alias', ... */
  readonly op: string;
  /** what it tried it on, quoted where it is a name: 'bridge "wb-1a2b3c"' */
  readonly object: string;
  /** symbolic errno: 'EEXIST', 'ENODEV', 'ETIMEDOUT', ... */
  readonly errno: string;

  constructor(op: string, object: string, errno: string, options?: { cause?: unknown }) {
    super(`${op} ${object}: ${errno}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DatapathError';
    this.op = op;
    this.object = object;
    this.errno = errno;
  }

  get isNotFound(): boolean {
    return NOT_FOUND.has(this.errno);
  }

  get isAlreadyExists(): boolean {
    return ALREADY_EXISTS.has(this.errno);
  }

  get isUnsupported(): boolean {
    return UNSUPPORTED.has(this.errno);
  }
}

/** For `catch (e: unknown)`: true when e is a DatapathError meaning "no such object". */
export function isNotFound(err: unknown): boolean {
  return err instanceof DatapathError && err.isNotFound;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof DatapathError && err.isAlreadyExists;
}

export function isUnsupported(err: unknown): boolean {
  return err instanceof DatapathError && err.isUnsupported;
}

const REJECTED = /^Request rejected: (E[A-Z0-9]+|-?\d+)$/;
// node_netlink's own timeout (RequestOptions.timeout) rejects with this text.
const TIMED_OUT = 'Timeout has been reached';

/**
 * The symbolic errno carried by whatever node_netlink, Node or libc threw.
 * Duck-typed rather than `instanceof Error`: errors from Node's own modules
 * (fs) come from another realm under jest's VM modules and fail instanceof.
 */
function errnoOf(err: unknown): string {
  if (err instanceof DatapathError) return err.errno;
  if (typeof err !== 'object' || err === null) return 'EUNKNOWN';
  const { message, code, name } = err as { message?: unknown; code?: unknown; name?: unknown };
  if (typeof message === 'string') {
    const m = REJECTED.exec(message);
    if (m?.[1] !== undefined) {
      const c = m[1];
      return /^-?\d+$/.test(c) ? errnoName(Number(c)) : canonical(c);
    }
    if (message === TIMED_OUT) return 'ETIMEDOUT';
  }
  // Node system errors (fs.openSync, the raw netlink socket) carry `code`.
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return canonical(code);
  // The codec throws RangeError for arguments it cannot encode (bad MAC,
  // bad address): the request never reached the kernel, which would have
  // said EINVAL.
  if (name === 'RangeError') return 'EINVAL';
  return 'EUNKNOWN';
}

/**
 * Wrap anything a netlink request (or a syscall around it) threw into a
 * DatapathError with context, keeping the original as `cause`.
 */
export function fromNetlink(op: string, object: string, err: unknown): DatapathError {
  if (err instanceof DatapathError && err.op === op && err.object === object) return err;
  const e = new DatapathError(op, object, errnoOf(err), { cause: err });
  // No errno to show: keep the library's own words, or logs say nothing useful.
  if (e.errno === 'EUNKNOWN') e.message += ` (${err instanceof Error ? err.message : String(err)})`;
  return e;
}

/** From a libc return code + errno (koffi): `mount netns "x": EPERM`. */
export function fromErrno(op: string, object: string, errno: number): DatapathError {
  return new DatapathError(op, object, errnoName(errno));
}
