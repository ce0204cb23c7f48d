// weft controller --listen HOST:PORT --data DIR: the control plane alone.
// --heartbeat-timeout and --host-grace set when a silent host becomes
// NotReady (endpoints kept) and then Gone (endpoints withdrawn).
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { defaultDataDir, ensureDataDir, writeTokenFiles } from '../data-dir.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_HOST_GONE_AFTER_MS, formatDuration } from '../../controller/config.js';
import { formatListen, parseDuration, parseHeartbeatTimeout, parseListen, parseLogLevel, type ListenAddress } from '../flags.js';
import { progress } from '../progress.js';
import { waitForShutdown } from '../shutdown.js';

export const DEFAULT_LISTEN = '127.0.0.1:7400';

interface ControllerFlags {
  listen: ListenAddress;
  data?: string;
  logLevel?: string;
  heartbeatTimeout?: number;
  hostGrace?: number;
}

/** Liveness timings for startController; unset ones take the controller's defaults. */
export interface ControllerTimings {
  heartbeatTimeoutMs?: number;
  hostGoneAfterMs?: number;
}

export type RunningController = Awaited<ReturnType<typeof import('../../controller/main.js').startController>>;

/** Start the controller (loaded on demand: other commands need none of its dependencies). */
export async function launchController(listen: ListenAddress, dataDir: string, logLevel: string | undefined, timings: ControllerTimings = {}): Promise<RunningController> {
  const { startController } = await import('../../controller/main.js');
  try {
    return await startController({ listen: formatListen(listen), dataDir, ...(logLevel === undefined ? {} : { logLevel }), ...timings });
  } catch (e) {
    // The controller wraps the listen error ("cannot listen on ..."): look at its cause too.
    const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = err.code ?? err.cause?.code;
    if (code === 'EADDRINUSE') {
      throw new CliError(`${formatListen(listen)} is in use (another weft controller or weft up?): stop it, or pick another address with --listen`, undefined, { cause: e });
    }
    if (code === 'EADDRNOTAVAIL') throw new CliError(`${listen.host} is not an address of this machine: pick another with --listen`, undefined, { cause: e });
    throw e;
  }
}

export function registerController(program: Command): void {
  program
    .command('controller')
    .description('run the controller: REST API, store, IPAM, planner and agent hub')
    .option('--listen <host:port>', 'address of the API', parseListen, parseListen(DEFAULT_LISTEN))
    .option('--data <dir>', 'state directory (database, tokens); default ./.weft in a weft checkout, else /var/lib/weft')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', parseLogLevel)
    .option(
      '--heartbeat-timeout <duration>',
      `a host silent this long is cut off and NotReady; its endpoints stay reachable (default ${formatDuration(DEFAULT_HEARTBEAT_TIMEOUT_MS)}; at least 10s, twice the agents' heartbeat interval)`,
      parseHeartbeatTimeout,
    )
    .option(
      '--host-grace <duration>',
      `a host disconnected (or cut off) this long is Gone: its endpoints are withdrawn from the other hosts (default ${formatDuration(DEFAULT_HOST_GONE_AFTER_MS)}; e.g. 90s, 5m)`,
      parseDuration,
    )
    .action(async (flags: ControllerFlags) => {
      const timings: ControllerTimings = {};
      if (flags.heartbeatTimeout !== undefined) timings.heartbeatTimeoutMs = flags.heartbeatTimeout;
      if (flags.hostGrace !== undefined) timings.hostGoneAfterMs = flags.hostGrace;
      const dataDir = ensureDataDir(flags.data ?? defaultDataDir());
      const p = progress();
      p.step('starting the controller');
      let controller: RunningController;
      try {
        controller = await launchController(flags.listen, dataDir, flags.logLevel, timings);
      } finally {
        p.done();
      }
      const files = writeTokenFiles(dataDir, controller);
      process.stdout.write(
        `weft controller listening on ${controller.url}\n` +
          `  data:        ${dataDir}\n` +
          `  admin token: ${files.admin}  (for the CLI: --token-file or WEFT_TOKEN)\n` +
          `  agent token: ${files.agent}  (for weft agent --token-file)\n`,
      );
      const sig = await waitForShutdown();
      process.stderr.write(`${sig}: stopping the controller\n`);
      await controller.close();
    });
}
