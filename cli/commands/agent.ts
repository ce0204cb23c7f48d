// weft agent --controller URL --name HOST --token-file FILE: one host's agent.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_AGENT_SOCKET } from '../../model/agent-rpc.js';
import { CliError } from '../cli-error.js';
import { readTokenFile } from '../client-config.js';
import { parseDnsLabel, parseIPv4, parseLogLevel, parseServerUrl, sanitiseHostName } from '../flags.js';
import { progress } from '../progress.js';
import { waitForShutdown } from '../shutdown.js';

export type RunningAgent = Awaited<ReturnType<typeof import('../../agents/main.js').startAgent>>;

export interface AgentLaunch {
  controller: string;
  name: string;
  tokenFile: string;
  socket?: string;
  stateDir?: string;
  hostNetns?: string;
  underlayAddress?: string;
  logLevel?: string;
}

/** Start the agent (loaded on demand: the netlink datapath is only needed here). */
export async function launchAgent(opts: AgentLaunch): Promise<RunningAgent> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CliError('the agent needs root: it creates bridges, veths and namespaces (try sudo)');
  }
  readTokenFile(opts.tokenFile); // fail here with a clear message, not deep inside the agent
  const { startAgent } = await import('../../agents/main.js');
  return startAgent(opts);
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description("run a host's agent: connects to the controller and realises its plan with netlink")
    .requiredOption('--controller <url>', 'controller URL, e.g. http://198.18.0.1:7400', parseServerUrl)
    .option('--name <host>', 'host name to register (a DNS label; default: this machine\'s host name)', parseDnsLabel('--name'), sanitiseHostName(hostname()))
    .requiredOption('--token-file <file>', "the controller's agent token file (DATA/agent.token)")
    .option('--socket <path>', `local RPC socket for runtimes (default ${DEFAULT_AGENT_SOCKET})`)
    .option('--state-dir <dir>', 'where the agent caches its plan and endpoints')
    .option('--host-netns <path>', "namespace the agent's bridges live in, e.g. /run/netns/h1 (default: the agent's own)")
    .option('--underlay-address <addr>', 'IPv4 address other hosts reach this one at, for VXLAN (default: the local address of the controller connection)', parseIPv4)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', parseLogLevel)
    .action(async (flags: AgentLaunch) => {
      const opts: AgentLaunch = { controller: flags.controller, name: flags.name, tokenFile: resolve(flags.tokenFile) };
      if (flags.socket !== undefined) opts.socket = resolve(flags.socket);
      if (flags.stateDir !== undefined) opts.stateDir = resolve(flags.stateDir);
      if (flags.hostNetns !== undefined) opts.hostNetns = resolve(flags.hostNetns);
      if (flags.underlayAddress !== undefined) opts.underlayAddress = flags.underlayAddress;
      if (flags.logLevel !== undefined) opts.logLevel = flags.logLevel;
      const p = progress();
      p.step(`starting agent ${flags.name}`);
      let agent: RunningAgent;
      try {
        agent = await launchAgent(opts);
      } finally {
        p.done();
      }
      process.stdout.write(`weft agent ${flags.name} started (controller ${flags.controller}, socket ${agent.socketPath})\n`);
      const sig = await waitForShutdown();
      process.stderr.write(`${sig}: stopping the agent\n`);
      await agent.close();
    });
}
