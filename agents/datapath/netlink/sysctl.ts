// Namespace sysctls through /proc/sys, without `sysctl`/`ip netns exec`: the
// net.* files resolve the network namespace of the thread that opens them,
// so the write happens synchronously inside withNetns (see netns.ts).
import { writeFileSync } from 'node:fs';
import { DatapathError, fromNetlink, kernelObject } from '../errors.js';
import { withNetns } from './netns.js';

/** Dotted sysctl names only: no path can be smuggled in. */
const SYSCTL_KEY = /^[a-z0-9_]+(\.[a-z0-9_-]+)+$/;

export function writeSysctl(ns: string, key: string, value: string): void {
  const object = kernelObject.sysctl(key);
  if (!SYSCTL_KEY.test(key) || /[\n\0]/.test(value)) throw new DatapathError('set', object, 'EINVAL');
  const path = `/proc/sys/${key.replace(/\./g, '/')}`;
  const write = () => writeFileSync(path, value);
  try {
    // 'host': the namespace this process runs in.
    if (ns === 'host') write();
    else withNetns(ns, write);
  } catch (err: unknown) {
    throw fromNetlink('set', object, err);
  }
}
