// The lab's wiring: a lab namespace with the underlay bridge, and one veth
// per host namespace into it. This is test and demo infrastructure, not the
// datapath, so it drives iproute2 (argv arrays, never a shell); namespaces
// themselves come from sys/netns.ts like `weft run`'s do.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WeftError } from '../../model/errors.js';
import { NETNS_RUN_DIR } from '../../model/kernel-names.js';
import { createNetns } from '../../sys/netns.js';
import { UNDERLAY_BRIDGE, UNDERLAY_GATEWAY, UNDERLAY_PREFIX_LENGTH } from './lab-address-plan.js';

const execFileAsync = promisify(execFile);

/** A host's underlay interface, named like a real machine's first NIC. */
const HOST_UPLINK = 'eth0';

export function netnsPath(name: string): string {
  return join(NETNS_RUN_DIR, name);
}

export async function ip(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new WeftError('Datapath', `ip ${args.join(' ')}: ${stderr || (e as Error).message}`, { cause: e });
  }
}

/** Namespaces under /run/netns whose name starts with prefix. */
export function listNetns(prefix: string): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR).filter((n) => n.startsWith(prefix));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** A fresh namespace with loopback up (ping to itself, local listeners). */
export async function makeNetns(name: string): Promise<string> {
  const path = createNetns(name);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  return path;
}

/** The underlay bridge with the controller's address, inside the (existing) lab namespace. */
export async function buildUnderlay(labNetns: string): Promise<void> {
  await ip(['-n', labNetns, 'link', 'add', UNDERLAY_BRIDGE, 'type', 'bridge']);
  await ip(['-n', labNetns, 'addr', 'add', `${UNDERLAY_GATEWAY}/${UNDERLAY_PREFIX_LENGTH}`, 'dev', UNDERLAY_BRIDGE]);
  await ip(['-n', labNetns, 'link', 'set', UNDERLAY_BRIDGE, 'up']);
}

/**
 * Plug a host namespace into the underlay: the veth is created in the lab
 * namespace with its peer born directly in the host namespace (no move).
 */
export async function joinUnderlay(labNetns: string, hostNetns: string, hostName: string, address: string): Promise<void> {
  const port = `u-${hostName}`;
  await ip(['-n', labNetns, 'link', 'add', port, 'type', 'veth', 'peer', 'name', HOST_UPLINK, 'netns', hostNetns]);
  await ip(['-n', labNetns, 'link', 'set', port, 'master', UNDERLAY_BRIDGE, 'up']);
  await ip(['-n', hostNetns, 'addr', 'add', `${address}/${UNDERLAY_PREFIX_LENGTH}`, 'dev', HOST_UPLINK]);
  await ip(['-n', hostNetns, 'link', 'set', HOST_UPLINK, 'up']);
}
