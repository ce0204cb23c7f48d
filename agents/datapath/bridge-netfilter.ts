// Bridged IPv4 traffic must pass the inet hooks for policies to judge
// traffic between endpoints on one bridge (this kernel, like most, has no
// conntrack in the bridge family): the br_netfilter module, with
// net.bridge.bridge-nf-call-iptables=1 in the agent's host namespace. This is
// what Docker and Kubernetes nodes set too. Done once, when the first policy
// table is written; a kernel without br_netfilter still gets the table
// (routed and cross-host traffic is judged) and a clear message.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { errorMessage } from '../../model/errors.js';
import { withNetns } from './netlink/netns.js';

const execFileP = promisify(execFile);
const SYSCTL = '/proc/sys/net/bridge/bridge-nf-call-iptables';

/** Undefined when bridged traffic reaches the inet hooks; otherwise why not. */
export async function ensureBridgeNetfilter(netns?: string): Promise<string | undefined> {
  if (!existsSync('/proc/sys/net/bridge')) {
    try {
      // Fixed argv, no shell, nothing from users.
      await execFileP('modprobe', ['br_netfilter']);
    } catch (e: unknown) {
      return `cannot load br_netfilter (${errorMessage(e)}): traffic between endpoints on one bridge is not filtered`;
    }
  }
  const set = () => {
    // /proc/sys/net is the namespace of whoever opens it.
    if (readFileSync(SYSCTL, 'utf8').trim() !== '1') writeFileSync(SYSCTL, '1');
  };
  try {
    if (netns === undefined) set();
    else withNetns(netns, set);
    return undefined;
  } catch (e: unknown) {
    return `cannot set net.bridge.bridge-nf-call-iptables=1 (${errorMessage(e)}): traffic between endpoints on one bridge is not filtered`;
  }
}
