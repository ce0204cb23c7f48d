// `weft run`: a throwaway sandbox on a weft network. Make a network
// namespace, have the local agent attach it, run the command inside, and on
// exit (or a signal) detach and remove the namespace. Anything made is undone
// on every path out, like a CNI plugin's failed ADD.
//
// The agent gets the namespace as a descriptor of this process (attach
// netnsFd), not by its path: the bind mount under /run/netns may live in a
// mount namespace of our own (`ip netns exec` gives its command one), where
// the agent cannot see it.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync } from 'node:fs';
import { constants as osc } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { WeftError, errorMessage } from '../model/errors.js';
import { DEFAULT_AGENT_SOCKET, type AttachParams, type AttachResult, type RpcMethod, type RpcMethods } from '../model/agent-rpc.js';
import { endpointName, RUN_NETNS_PREFIX } from '../model/kernel-names.js';
import { createNetns, deleteNetns, openNetns, spawnInNetns } from '../sys/netns.js';
import { assertAgentSocket, callAgent } from './agent-client.js';



export interface WeftRunOptions {
  network: string;
  /** Container ID for the agent; default: the namespace name. */
  name?: string;
  ip?: string;
  mac?: string;
  labels?: Record<string, string>;
  ifname?: string;
  socket?: string;
  command: string;
  args: string[];
  verbose?: boolean;
  /** Per RPC; attach may wait for the agent to sync with the controller. */
  timeoutMs?: number;
}

type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const FORWARDED: Signal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The process-level effects, injectable so the flow is unit-testable without root. */
export interface WeftRunDeps {
  socketExists(path: string): boolean;
  call<M extends RpcMethod>(socket: string, method: M, params: RpcMethods[M]['params'], timeoutMs?: number): Promise<RpcMethods[M]['result']>;
  createNetns(name: string): string;
  /** A descriptor of the namespace at path, handed to the agent. */
  openNetns(path: string): number;
  closeFd(fd: number): void;
  deleteNetns(path: string): void;
  spawn(nsPath: string, command: string, args: string[]): ChildProcess;
  onSignal(sig: Signal, fn: () => void): void;
  offSignal(sig: Signal, fn: () => void): void;
  /** When stdin is a terminal, Ctrl-C reaches the child through its process group already. */
  interactive: boolean;
  stderr: { write(s: string): unknown };
  randomId(): string;
}

const processDeps: WeftRunDeps = {
  socketExists: existsSync,
  call: (socket, method, params, timeoutMs) => callAgent(socket, method, params, timeoutMs === undefined ? {} : { timeoutMs }),
  createNetns: (name) => createNetns(name),
  openNetns: (path) => openNetns(path),
  closeFd: (fd) => closeSync(fd),
  deleteNetns: (path) => deleteNetns(path),
  spawn: (nsPath, command, args) => spawnInNetns(nsPath, command, args),
  onSignal: (sig, fn) => process.on(sig, fn),
  offSignal: (sig, fn) => process.off(sig, fn),
  // A getter: reading process.stdin builds its stream, which only a signal needs.
  get interactive() {
    return process.stdin.isTTY === true;
  },
  stderr: process.stderr,
  randomId: () => randomBytes(4).toString('hex'),
};

/** Exit status of a child the way a shell reports it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? (osc.signals as Record<string, number>)[signal] : undefined;
  return 128 + (n ?? 0);
}

/** Run the sandbox; resolves to the command's exit status. Throws when nothing could be run. */
export async function weftRun(opts: WeftRunOptions, deps: WeftRunDeps = processDeps): Promise<number> {
  const socket = opts.socket ?? DEFAULT_AGENT_SOCKET;
  assertAgentSocket(socket, deps.socketExists);

  const nsName = `${RUN_NETNS_PREFIX}${deps.randomId()}`;
  const containerId = opts.name ?? nsName;
  let child: ChildProcess | undefined;
  let interrupted: Signal | undefined;
  let forceKill = false;

  const handlers = FORWARDED.map((sig) => {
    const fn = () => {
      if (!child) {
        interrupted ??= sig; // checked once attach returns
        return;
      }
      if (forceKill) {
        child.kill('SIGKILL'); // second signal: the user wants out now
        return;
      }
      forceKill = true;
      if (!(sig === 'SIGINT' && deps.interactive)) child.kill(sig);
    };
    deps.onSignal(sig, fn);
    return { sig, fn };
  });
  const removeHandlers = () => handlers.forEach(({ sig, fn }) => deps.offSignal(sig, fn));

  let nsPath: string;
  try {
    nsPath = deps.createNetns(nsName);
  } catch (e) {
    removeHandlers();
    throw e;
  }

  let attached = false;
  try {
    const params: AttachParams = { network: opts.network, containerId, netns: nsPath };
    if (opts.ifname !== undefined) params.ifname = opts.ifname;
    if (opts.ip !== undefined) params.ip = opts.ip;
    if (opts.mac !== undefined) params.mac = opts.mac;
    if (opts.labels !== undefined && Object.keys(opts.labels).length > 0) params.labels = opts.labels;
    const result = await attachByFd(deps, socket, params, opts.timeoutMs);
    if (result.existing && result.netns !== nsPath) {
      // Someone else's sandbox under that name: not ours to detach.
      throw new WeftError('AlreadyExists', `container "${containerId}" is attached already (in ${result.netns}): choose another --name`);
    }
    attached = true;
    if (opts.verbose) deps.stderr.write(describeAttach(result));

    if (interrupted) return 128 + (osc.signals[interrupted] ?? 0);
    return await runChild(deps, nsPath, opts, (c) => (child = c));
  } finally {
    removeHandlers();
    await cleanup(deps, { socket, containerId, network: opts.network, ifname: opts.ifname, nsPath, attached, timeoutMs: opts.timeoutMs });
  }
}

/** Attach with the namespace open as a descriptor for the agent to take; closed once it answered. */
async function attachByFd(deps: WeftRunDeps, socket: string, params: AttachParams, timeoutMs: number | undefined): Promise<AttachResult> {
  const fd = deps.openNetns(params.netns);
  try {
    return await deps.call(socket, 'attach', { ...params, netnsFd: fd }, timeoutMs);
  } finally {
    deps.closeFd(fd);
  }
}

function runChild(deps: WeftRunDeps, nsPath: string, opts: WeftRunOptions, started: (c: ChildProcess) => void): Promise<number> {
  return new Promise((resolve) => {
    let c: ChildProcess;
    try {
      c = deps.spawn(nsPath, opts.command, opts.args);
    } catch (e) {
      deps.stderr.write(`error: cannot run ${JSON.stringify(opts.command)}: ${errorMessage(e)}\n`);
      resolve(126);
      return;
    }
    started(c);
    c.once('error', (err: NodeJS.ErrnoException) => {
      // spawn reports a missing or non-executable file here, not by throwing.
      const notFound = err.code === 'ENOENT';
      deps.stderr.write(`error: cannot run ${JSON.stringify(opts.command)}: ${notFound ? 'command not found' : err.message}\n`);
      resolve(notFound ? 127 : 126);
    });
    c.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });
}

interface CleanupState {
  socket: string;
  containerId: string;
  network: string;
  ifname: string | undefined;
  nsPath: string;
  attached: boolean;
  timeoutMs: number | undefined;
}

/** Undo in reverse order; report every failure but keep going so the namespace goes too. */
async function cleanup(deps: WeftRunDeps, s: CleanupState): Promise<void> {
  if (s.attached) {
    try {
      const params: RpcMethods['detach']['params'] = { containerId: s.containerId, network: s.network };
      if (s.ifname !== undefined) params.ifname = s.ifname;
      await deps.call(s.socket, 'detach', params, s.timeoutMs);
    } catch (e) {
      const ep = endpointName(s.containerId, s.ifname ?? 'eth0');
      deps.stderr.write(`warning: detach of "${s.containerId}" failed: ${errorMessage(e)} (remove it later with: weft delete endpoint ${ep})\n`);
    }
  }
  try {
    deps.deleteNetns(s.nsPath);
  } catch (e) {
    deps.stderr.write(`warning: could not remove ${s.nsPath}: ${errorMessage(e)}\n`);
  }
}

function describeAttach(r: AttachResult): string {
  const v6 = r.address6 === undefined ? '' : ` ${r.address6} gateway6 ${r.gateway6 ?? ''}`;
  return `weft run: ${r.ifname} ${r.address} mac ${r.mac} mtu ${r.mtu} gateway ${r.gateway}${v6} on network ${r.network} (endpoint ${r.endpoint}, netns ${r.netns})\n`;
}
