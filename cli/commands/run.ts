// weft run --network NET [...] -- CMD [ARGS...]: see runtime/weft-run.ts.
import type { Command } from 'commander';
import { DEFAULT_AGENT_SOCKET } from '../../model/agent-rpc.js';
import type { WeftRunOptions } from '../../runtime/weft-run.js';
import { CliError, usageError } from '../cli-error.js';
import { collectLabels, parseContainerName, parseDnsLabel, parseIfname, parseIPv4, parseMac, parsePositiveSeconds } from '../flags.js';

interface RunFlags {
  network: string;
  name?: string;
  ip?: string;
  mac?: string;
  label?: Record<string, string>;
  ifname: string;
  socket?: string;
  timeout?: number;
  verbose?: boolean;
}

/** `weft run` ends with the command's exit status, reported through `outcome`. */
export function registerRun(program: Command, outcome: { exitCode: number }): void {
  program
    .command('run')
    .description('run a command in a fresh network namespace attached to a weft network (needs root and a running agent)')
    .usage('--network NET [options] -- CMD [ARGS...]')
    .requiredOption('--network <net>', 'network to attach to', parseDnsLabel('--network'))
    .option('--name <name>', 'container ID to register (default: the namespace name, wr-XXXXXXXX)', parseContainerName)
    .option('--ip <addr>', 'request this IPv4 address (default: allocated)', parseIPv4)
    .option('--mac <mac>', 'request this MAC address (default: random)', parseMac)
    .option('--label <k=v>', 'label the endpoint; repeatable', collectLabels)
    .option('--ifname <name>', 'interface name inside the namespace', parseIfname, 'eth0')
    .option('--socket <path>', `agent socket (env WEFT_AGENT_SOCKET; default ${DEFAULT_AGENT_SOCKET})`)
    .option('--timeout <seconds>', 'give up on an agent request after this long (default 30)', parsePositiveSeconds)
    .option('-v, --verbose', 'print the attached interface and address to stderr')
    .argument('<command...>', 'the command and its arguments (no shell: use sh -c "..." for one)')
    .passThroughOptions()
    .action(async (argv: string[], flags: RunFlags) => {
      const [command, ...args] = argv;
      if (command === undefined || command === '') throw usageError('weft run needs a command after --, e.g. weft run --network demo -- sh');
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new CliError('weft run needs root: creating a network namespace needs CAP_SYS_ADMIN (try sudo)');
      }
      const opts: WeftRunOptions = { network: flags.network, ifname: flags.ifname, command, args, socket: flags.socket ?? process.env.WEFT_AGENT_SOCKET ?? DEFAULT_AGENT_SOCKET };
      if (flags.name !== undefined) opts.name = flags.name;
      if (flags.ip !== undefined) opts.ip = flags.ip;
      if (flags.mac !== undefined) opts.mac = flags.mac;
      if (flags.label !== undefined) opts.labels = flags.label;
      if (flags.timeout !== undefined) opts.timeoutMs = Math.round(flags.timeout * 1000);
      if (flags.verbose) opts.verbose = true;
      const { weftRun } = await import('../../runtime/weft-run.js');
      outcome.exitCode = await weftRun(opts);
    });
}
