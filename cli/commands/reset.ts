// weft reset: remove everything weft made on this host, in the network
// namespace this command runs in (where the agent's bridges live): VNF
// processes and namespaces, endpoint and VNF ports, VXLAN devices, bridges,
// weft's nft tables, the namespaces `weft run` left, a stale agent socket,
// and with --state the agent's state directory. What is weft's is told by
// weft's own marks only (agents/reset/host-reset.ts). Refuses while an agent
// runs on this state directory or socket, and while workloads are attached,
// unless --force; --dry-run lists and removes nothing.
import { lstatSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_AGENT_SOCKET } from '../../model/agent-rpc.js';
import { errorMessage } from '../../model/errors.js';
import { CliError } from '../cli-error.js';
import { SYSTEM_DATA_DIR } from '../client-config.js';
import { defaultDataDir } from '../data-dir.js';
import { parseDnsLabel, sanitiseHostName } from '../flags.js';

interface ResetFlags {
  name?: string;
  stateDir?: string;
  socket?: string;
  state?: boolean;
  force?: boolean;
  dryRun?: boolean;
}

/** The agent's state directory: `weft up`'s (DATA/agent) when there is one, else `weft agent`'s default. */
function defaultStateDir(name: string): string {
  const up = join(defaultDataDir(), 'agent');
  try {
    if (lstatSync(join(up, 'agent.db')).isFile()) return up;
  } catch {
    // no `weft up` state here
  }
  return join(SYSTEM_DATA_DIR, `agent-${name}`);
}

/** Whether an agent listens on the socket: 'listening', 'stale' (a socket file nobody serves), or 'absent'. */
async function probeSocket(path: string): Promise<'listening' | 'stale' | 'absent'> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return 'absent';
  }
  if (!isSocket) return 'absent';
  // node:net costs every command its load time: only reset needs it, here.
  const { connect } = await import('node:net');
  return new Promise((done) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      done('listening');
    });
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'stale' : 'listening'));
  });
}

export function registerReset(program: Command): void {
  program
    .command('reset')
    .description("remove everything weft made on this host (bridges, ports, VXLAN devices, nft tables, VNFs, weft run's namespaces); needs root")
    .option('--name <host>', "the agent's host name (default: the one its state names, else this machine's host name)", parseDnsLabel('--name'))
    .option('--state-dir <dir>', "the agent's state directory (default: ./.weft/agent of weft up when present, else /var/lib/weft/agent-HOST)")
    .option('--socket <path>', `the agent's socket (env WEFT_AGENT_SOCKET; default ${DEFAULT_AGENT_SOCKET})`)
    .option('--state', "also remove the agent's state directory (cached plan, endpoint records, address blocks)")
    .option('--force', 'go on although workloads are attached or an agent is running')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .action(async (flags: ResetFlags) => {
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new CliError('weft reset needs root: it removes links, namespaces and nft tables (try sudo)');
      }
      const name = flags.name ?? sanitiseHostName(hostname());
      const stateDir = resolve(flags.stateDir ?? defaultStateDir(name));
      const socket = resolve(flags.socket ?? process.env.WEFT_AGENT_SOCKET ?? DEFAULT_AGENT_SOCKET);
      const { openHostReset } = await import('../../agents/main.js');
      const { AGENT_PIDFILE, runningAgentPid } = await import('../../agents/state/agent-pidfile.js');

      const refusals: string[] = [];
      const pid = runningAgentPid(stateDir);
      const socketState = await probeSocket(socket);
      if (pid !== undefined || socketState === 'listening') {
        const which = [pid === undefined ? '' : `pid ${pid} (${join(stateDir, AGENT_PIDFILE)})`, socketState === 'listening' ? `listening on ${socket}` : ''].filter((x) => x).join(', ');
        refusals.push(`an agent is running on this host (${which}): stop it first, or it re-creates what its plan names`);
      }

      const opened = await openHostReset({ stateDir, ...(flags.name === undefined ? {} : { name: flags.name }), defaultName: name });
      let plan;
      try {
        plan = await opened.reset.plan({ state: flags.state === true });
      } catch (e) {
        opened.close();
        throw e;
      }
      if (socketState === 'stale') {
        plan.items.push({ kind: 'files', name: socket, what: 'stale agent socket', remove: async () => rmSync(socket, { force: true }) });
      }
      if (plan.attached.length > 0) {
        const list = plan.attached.map((w) => `${w.endpoint} (${w.hostIfname}${w.netns === undefined ? '' : `, ${w.netns}`})`).join(', ');
        refusals.push(`${plan.attached.length} workload${plan.attached.length === 1 ? ' is' : 's are'} attached: ${list}; detach ${plan.attached.length === 1 ? 'it' : 'them'} first (weft reset --force cuts them off)`);
      }
      const out = process.stdout;
      out.write(`weft reset: host ${opened.hostName}, state ${stateDir}${opened.hasState ? '' : ' (none)'}, in this network namespace\n`);
      try {
        if (flags.dryRun) {
          for (const i of plan.items) out.write(`would remove ${i.kind} ${i.name} (${i.what})\n`);
          out.write(plan.items.length === 0 ? 'nothing of weft\'s found\n' : `${plan.items.length} to remove (dry run: nothing removed)\n`);
          if (refusals.length > 0 && !flags.force) throw new CliError(`weft reset would refuse: ${refusals.join('; ')}`);
          return;
        }
        if (refusals.length > 0 && !flags.force) throw new CliError(`refused: ${refusals.join('; ')}`);
        for (const r of refusals) process.stderr.write(`warning: --force: ${r}\n`);
        const failed: string[] = [];
        for (const i of plan.items) {
          try {
            await i.remove();
            out.write(`removed ${i.kind} ${i.name} (${i.what})\n`);
          } catch (e) {
            failed.push(`${i.kind} ${i.name}`);
            process.stderr.write(`error: could not remove ${i.kind} ${i.name}: ${errorMessage(e)}\n`);
          }
        }
        out.write(plan.items.length === 0 ? 'nothing of weft\'s found\n' : `${plan.items.length - failed.length} removed\n`);
        if (failed.length > 0) throw new CliError(`${failed.length} could not be removed (${failed.join(', ')}); run weft reset again`);
      } finally {
        opened.close();
      }
    });
}
