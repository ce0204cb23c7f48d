// The `weft` command tree. Each subcommand lives in cli/commands/; this
// file wires them, the global options and the exit statuses.
import { Command, CommanderError } from 'commander';
import { addClientOptions } from './client-options.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, formatFailure } from './cli-error.js';
import { registerAgent } from './commands/agent.js';
import { registerApply } from './commands/apply.js';
import { registerController } from './commands/controller.js';
import { registerDelete } from './commands/delete.js';
import { registerDescribe } from './commands/describe.js';
import { registerDiff } from './commands/diff.js';
import { registerExplain } from './commands/explain.js';
import { registerGet } from './commands/get.js';
import { registerInstallCni } from './commands/install-cni.js';
import { registerLab } from './commands/lab.js';
import { registerReset } from './commands/reset.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerUp } from './commands/up.js';
import { registerWait } from './commands/wait.js';

type Outcome = { exitCode: number };

/** Every subcommand by name, in the order --help lists them. */
const COMMANDS: ReadonlyArray<readonly [string, (program: Command, outcome: Outcome) => void]> = [
  ['up', registerUp],
  ['controller', registerController],
  ['agent', registerAgent],
  ['apply', registerApply],
  ['diff', registerDiff],
  ['get', registerGet],
  ['delete', registerDelete],
  ['describe', registerDescribe],
  ['wait', registerWait],
  ['explain', registerExplain],
  ['schema', registerSchema],
  ['run', registerRun],
  ['lab', registerLab],
  ['install-cni', registerInstallCni],
  ['reset', registerReset],
];

/** Global options that take a value (addClientOptions); commander reads the subcommand after them. */
const VALUE_OPTIONS = ['--server', '--token-file'];

/**
 * The subcommand argv names, when it is certain: the first word after the
 * global options. Undefined for anything else (--help, --version, help, an
 * unknown option or command), which needs the whole tree.
 */
function requestedCommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (VALUE_OPTIONS.includes(arg)) {
      i++;
      continue;
    }
    if (VALUE_OPTIONS.some((o) => arg.startsWith(`${o}=`))) continue;
    if (arg.startsWith('-')) return undefined;
    return COMMANDS.some(([name]) => name === arg) ? arg : undefined;
  }
  return undefined;
}

/**
 * The command tree. When argv names its subcommand, only that one is
 * built: commander then parses, helps and fails exactly as with the whole
 * tree, and a run does not pay for defining the other fourteen.
 */
function buildProgram(version: string, argv: string[], outcome: Outcome = { exitCode: EXIT_OK }): Command {
  const program = new Command('weft')
    .description('weft: virtual networks, a netlink datapath and network functions for Linux hosts')
    .version(version, '--version')
    // Settings first: subcommands copy them when created.
    .exitOverride()
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text.startsWith('error:') ? text : `error: ${text}`) });
  addClientOptions(program);
  const only = requestedCommand(argv);
  for (const [name, register] of COMMANDS) {
    if (only === undefined || name === only) register(program, outcome);
  }
  program.addHelpText(
    'after',
    '\nExit status: 0 ok, 1 error (validation, not found, rejected), 2 usage, 3 controller unreachable.\n' +
      'Environment: WEFT_SERVER, WEFT_TOKEN (the admin token itself), WEFT_AGENT_SOCKET.',
  );
  return program;
}

/** Parse and run; resolves to the exit status instead of exiting, so tests can drive it. */
export async function runCli(argv: string[], version = '0.0.0'): Promise<number> {
  const outcome = { exitCode: EXIT_OK };
  const program = buildProgram(version, argv, outcome);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander printed its message already; --help and --version end with 0.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    process.stderr.write(formatFailure(e));
    return exitCodeFor(e);
  }
  return outcome.exitCode;
}
