// weft lab up|down: a multi-host lab on this machine (runtime/lab/), for
// trying multi-host networking on one laptop. Everything lives in network
// namespaces the lab makes; nothing is added to this machine's own network.
import { relative, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { API_PREFIX } from '../../model/rest.js';
import type { Lab, LabNetwork } from '../../runtime/lab/lab.js';
import { LAB_CONTROLLER_URL, LAB_PREFIX_PATTERN, MAX_HOSTS, UNDERLAY_BRIDGE, UNDERLAY_GATEWAY, UNDERLAY_PREFIX_LENGTH } from '../../runtime/lab/lab-address-plan.js';
import { CliError } from '../cli-error.js';
import { invocation } from '../data-dir.js';
import { parseListen, parseLogLevel, type ListenAddress } from '../flags.js';
import { progress } from '../progress.js';
import { waitForShutdown } from '../shutdown.js';

const DEFAULT_LAB_DIR = '.weft-lab';
const DEFAULT_LAB_PREFIX = 'wl-';
const DEFAULT_LAB_HOSTS = 3;

/** The example networks; 100.64/10 so a demo never shadows a real 10.x route. */
const LAB_EXAMPLE_NETWORKS: LabNetwork[] = [
  { name: 'blue', subnet: '100.64.1.0/24' },
  { name: 'red', subnet: '100.64.2.0/24' },
];

function parseHostCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_HOSTS) throw new InvalidArgumentError(`Write a whole number of hosts from 1 to ${MAX_HOSTS}, e.g. --hosts 3`);
  return n;
}

function parseLabPrefix(value: string): string {
  if (!LAB_PREFIX_PATTERN.test(value)) {
    throw new InvalidArgumentError('Use 1-24 letters, digits, "_", "." or "-", starting with a letter or digit, e.g. --prefix wl-');
  }
  return value;
}

interface UpFlags {
  hosts: number;
  prefix: string;
  dir: string;
  networks: boolean;
  logLevel?: string;
}

interface DownFlags {
  dir: string;
  prefix?: string;
}

function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CliError(`weft lab ${what} needs root: it creates and removes network namespaces (try sudo)`);
  }
}

/** A path as the user would type it from here. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function summary(lab: Lab, networks: LabNetwork[]): string {
  const cli = invocation();
  const dir = shown(lab.dir);
  const hosts = lab.hosts();
  const first = hosts[0];
  const second = hosts[1];
  const lines = [
    '',
    `weft lab is up in ${dir} (namespaces ${lab.prefix}*):`,
    `  ${lab.labNetns.padEnd(12)} underlay bridge ${UNDERLAY_BRIDGE} ${UNDERLAY_GATEWAY}/${UNDERLAY_PREFIX_LENGTH}, controller ${LAB_CONTROLLER_URL}`,
    ...hosts.map((h) => `  ${h.netns.padEnd(12)} host ${h.name} ${h.address}, agent socket ${shown(h.socket)}`),
  ];
  if (networks.length > 0) lines.push(`  networks     ${networks.map((n) => `${n.name} ${n.subnet}`).join(', ')}`);
  lines.push(`  logs         ${dir}/*.log`, '', 'Try (as root, from this directory):');
  const hints: [string, string][] = [];
  if (first && networks[0]) {
    hints.push([`nsenter --net=/run/netns/${first.netns} ${cli} run --network ${networks[0].name} --socket ${shown(first.socket)} -- sh`, `a shell on ${networks[0].name}, on host ${first.name}`]);
  }
  if (first && second) hints.push([`nsenter --net=/run/netns/${first.netns} ping -c1 ${second.address}`, `${first.name} reaches ${second.name} over the underlay`]);
  hints.push(
    [`nsenter --net=/run/netns/${lab.labNetns} ${cli} get hosts --server ${LAB_CONTROLLER_URL} --token-file ${dir}/admin.token`, 'the controller, from inside the lab'],
    [`curl -s --unix-socket ${dir}/api.sock -H "authorization: Bearer $(cat ${dir}/admin.token)" http://lab${API_PREFIX}/hosts`, 'the same through the lab\'s API relay'],
  );
  // Comment lines above the commands: the commands are too long for a column beside them.
  for (const [c, what] of hints) lines.push(`  # ${what}`, `  ${c}`);
  lines.push('', `Remove everything with: ${cli} lab down${lab.dir === resolve(DEFAULT_LAB_DIR) ? '' : ` --dir ${dir}`}`, '');
  return lines.join('\n');
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('a multi-host lab on this machine: a controller and N agents, each host in its own network namespace (needs root)');

  lab
    .command('up')
    .description('build the lab, start the controller and one agent per host (in the background), create example networks')
    .option('--hosts <n>', `number of hosts, 1-${MAX_HOSTS}`, parseHostCount, DEFAULT_LAB_HOSTS)
    .option('--prefix <prefix>', 'prefix of every namespace the lab makes', parseLabPrefix, DEFAULT_LAB_PREFIX)
    .option('--dir <dir>', 'lab directory (state, tokens, sockets, logs); must be new or empty', DEFAULT_LAB_DIR)
    .option('--no-networks', `do not create the example networks (${LAB_EXAMPLE_NETWORKS.map((n) => n.name).join(', ')})`)
    .option('--log-level <level>', 'of the controller and agents: fatal, error, warn, info, debug, trace or silent', parseLogLevel)
    .action(async (flags: UpFlags) => {
      requireRoot('up');
      const { Lab } = await import('../../runtime/lab/lab.js');
      const l = new Lab(flags.logLevel === undefined ? { dir: flags.dir } : { dir: flags.dir, logLevel: flags.logLevel });
      const networks = flags.networks ? LAB_EXAMPLE_NETWORKS : [];
      const p = progress();
      p.step(`starting a lab with ${flags.hosts} host${flags.hosts === 1 ? '' : 's'}`);
      try {
        await l.up({ hosts: flags.hosts, prefix: flags.prefix, networks });
      } finally {
        p.done();
      }
      process.stdout.write(summary(l, networks));
    });

  lab
    .command('down')
    .description('stop the lab\'s processes and remove its namespaces and directory (also after a crash)')
    .option('--dir <dir>', 'lab directory', DEFAULT_LAB_DIR)
    .option('--prefix <prefix>', 'also remove namespaces with this prefix (for a lab whose directory is gone)', parseLabPrefix)
    .action(async (flags: DownFlags) => {
      requireRoot('down');
      const { Lab } = await import('../../runtime/lab/lab.js');
      const l = new Lab({ dir: flags.dir });
      const report = await l.down(flags.prefix === undefined ? {} : { prefix: flags.prefix });
      const what = `${report.stopped.length} process${report.stopped.length === 1 ? '' : 'es'} stopped, ${report.namespaces.length} namespace${report.namespaces.length === 1 ? '' : 's'} removed`;
      process.stdout.write(`weft lab is down: ${what}${report.namespaces.length > 0 ? ` (${report.namespaces.join(', ')})` : ''}\n`);
    });

  // Started by the lab inside its namespace; see runtime/lab/api-relay.ts.
  lab
    .command('api-relay', { hidden: true })
    .requiredOption('--socket <path>', 'unix socket to accept connections on')
    .requiredOption('--target <host:port>', 'controller address to forward them to', parseListen)
    .action(async (flags: { socket: string; target: ListenAddress }) => {
      const { serveApiRelay } = await import('../../runtime/lab/api-relay.js');
      const server = await serveApiRelay(resolve(flags.socket), flags.target);
      process.stdout.write(`weft lab api-relay: ${flags.socket} -> ${flags.target.host}:${flags.target.port}\n`);
      await waitForShutdown();
      server.close();
    });
}
