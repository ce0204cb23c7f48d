// Network namespaces for the datapath: the calls of sys/netns.ts (setns on
// the JS thread, named namespaces under /run/netns; how and why there),
// failing with DatapathError like every other kernel call of the agent, so
// that callers can ask isNotFound / isAlreadyExists.
import { DatapathError } from '../errors.js';
import {
  createNetns,
  deleteNetns,
  listNetns,
  netnsIdentity as netnsIdentityAt,
  netnsIdentityOfFd as netnsIdentityOfFdAt,
  openNetns as openNetnsFile,
  SysError,
  withNetns as withNetnsAt,
  withNetnsFd as withNetnsFdAt,
} from '../../../sys/netns.js';

function datapath<T>(call: () => T): T {
  try {
    return call();
  } catch (err: unknown) {
    throw err instanceof SysError ? new DatapathError(err.op, err.object, err.errno, { cause: err }) : err;
  }
}

/** Open a namespace file (/run/netns/x, /proc/PID/ns/net) read-only. */
export function openNetns(path: string): number {
  return datapath(() => openNetnsFile(path));
}

/** The namespace's identity (nsfs device:inode), undefined when the path does not exist (sys/netns.ts). */
export function netnsIdentity(path: string): string | undefined {
  return datapath(() => netnsIdentityAt(path));
}

/** The identity of the namespace open as `fd`. */
export function netnsIdentityOfFd(fd: number, what?: string): string {
  return datapath(() => netnsIdentityOfFdAt(fd, what));
}

/** Run `fn` (synchronous) with this thread inside the namespace open as `fd`, then switch back. */
export function withNetnsFd<T>(fd: number, fn: () => T, what?: string): T {
  return datapath(() => withNetnsFdAt(fd, fn, what));
}

/** Run `fn` (synchronous) inside the namespace at `path` (fails with isNotFound if absent). */
export function withNetns<T>(path: string, fn: () => T): T {
  return datapath(() => withNetnsAt(path, fn));
}

/** Create /run/netns/NAME holding a fresh namespace; returns its path. Fails with isAlreadyExists if the name is taken. */
export function createNamedNetns(name: string): string {
  return datapath(() => createNetns(name));
}

/** Unmount and remove /run/netns/NAME; tolerates absence. */
export function deleteNamedNetns(name: string): void {
  datapath(() => deleteNetns(name));
}

/** Names (not paths) under /run/netns. */
export function listNamedNetns(): string[] {
  return datapath(listNetns);
}
