// weft up: the quick start. Controller and a local agent in one process
// with the embedded store, plus an example network, then "what next".
// The agent's bridges live in this machine's network namespace: that is
// the product working for the user (tests never run `weft up` there).
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_AGENT_SOCKET } from '../../model/agent-rpc.js';
import { errorMessage, isWeftError } from '../../model/errors.js';
import { API_VERSION } from '../../model/kind-names.js';
import type { Network } from '../../model/kinds.js';
import { ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { defaultTokenFiles } from '../client-config.js';
import { defaultDataDir, ensureDataDir, invocation, localUrl, writeTokenFiles, type TokenFiles } from '../data-dir.js';
import { parseDnsLabel, parseListen, parseLogLevel, sanitiseHostName, type ListenAddress } from '../flags.js';
import { progress } from '../progress.js';
import { waitForShutdown } from '../shutdown.js';
import { launchAgent, type AgentLaunch, type RunningAgent } from './agent.js';
import { DEFAULT_LISTEN, launchController, type RunningController } from './controller.js';

const EXAMPLE_NETWORK: Network = {
  apiVersion: API_VERSION,
  kind: 'Network',
  metadata: { name: 'demo', labels: { 'weft.dev/example': 'true' } },
  spec: { subnet: '10.88.0.0/24' },
};

interface UpFlags {
  data?: string;
  listen: ListenAddress;
  example: boolean;
  name: string;
  socket?: string;
  logLevel?: string;
}

/** Create the example network unless one of that name exists; never overwrite the user's. */
async function ensureExample(client: ApiClient): Promise<string> {
  const name = EXAMPLE_NETWORK.metadata.name;
  try {
    const existing = await client.get('Network', name);
    return `${name} (exists: ${(existing as Network).spec.subnet})`;
  } catch (e) {
    if (!isWeftError(e) || e.code !== 'NotFound') throw e;
  }
  try {
    await client.apply([EXAMPLE_NETWORK]);
    return `${name} ${EXAMPLE_NETWORK.spec.subnet} (created)`;
  } catch (e) {
    // An overlapping network of the user's own is not a reason to stop.
    return `not created: ${errorMessage(e)}`;
  }
}

function whatNext(cli: string, c: { url: string; dataDir: string; files: TokenFiles; agent: string; socket: string; example: string | undefined }): string {
  const sock = c.socket === DEFAULT_AGENT_SOCKET ? '' : ` --socket ${c.socket}`;
  // The CLI finds the token by itself only where its default lookup lands on this file.
  const found = defaultTokenFiles(process.cwd()).find((f) => existsSync(f));
  const token = found === c.files.admin ? '' : ` --token-file ${c.files.admin}`;
  const hints: [string, string][] = [
    [`${cli} get networks${token}`, 'list networks'],
    [`${cli} run${sock} --network demo -- sh`, 'a shell on the demo network'],
    [`${cli} run${sock} --network demo -- ping -c1 10.88.0.1`, 'reach its gateway'],
    [`${cli} apply -f FILE.yaml${token}`, 'create your own networks'],
    ['npm test', 'run the test suite (as root)'],
  ];
  const width = Math.max(...hints.map(([cmd]) => cmd.length)) + 3;
  const lines = [
    '',
    'weft is up.',
    `  controller   ${c.url}   (state in ${c.dataDir})`,
    `  agent        ${c.agent}, runtime socket ${c.socket}`,
    `  admin token  ${c.files.admin}`,
    `  console      ${c.url.replace(/\/$/, '')}/   (in a browser on this machine; log in with the admin token)`,
  ];
  if (c.example !== undefined) lines.push(`  network      ${c.example}`);
  lines.push(
    '',
    'What next (in another terminal, from this directory):',
    ...hints.map(([cmd, what]) => `  ${cmd.padEnd(width)}${what}`),
    '',
    `More hosts: listen on a reachable address (--listen 0.0.0.0:7400), copy ${c.files.agent} to the host and run`,
    '  weft agent --controller http://THIS-HOST:7400 --name HOST --token-file agent.token',
    'Stop with Ctrl-C.',
    '',
  );
  return lines.join('\n');
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('quick start: controller + local agent in one process, and an example network "demo" (needs root)')
    .option('--data <dir>', 'state directory; default ./.weft in a weft checkout, else /var/lib/weft')
    .option('--listen <host:port>', 'address of the API', parseListen, parseListen(DEFAULT_LISTEN))
    .option('--no-example', 'do not create the example network "demo"')
    .option('--name <host>', 'name of the local host (default: this machine\'s host name as a DNS label)', parseDnsLabel('--name'), sanitiseHostName(hostname()))
    .option('--socket <path>', `the local agent's runtime socket (default ${DEFAULT_AGENT_SOCKET})`)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', parseLogLevel)
    .action(async (flags: UpFlags) => {
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new CliError('weft up runs a local agent that creates bridges and veths: run it as root (sudo npm start)');
      }
      const dataDir = ensureDataDir(flags.data ?? defaultDataDir());
      const p = progress();
      let controller: RunningController | undefined;
      let agent: RunningAgent | undefined;
      const stop = async () => {
        await agent?.close();
        await controller?.close();
      };
      let example: string | undefined;
      let files: TokenFiles;
      let url: string;
      try {
        p.step('starting the controller');
        controller = await launchController(flags.listen, dataDir, flags.logLevel);
        files = writeTokenFiles(dataDir, controller);
        url = localUrl(controller.url);
        p.step(`starting agent ${flags.name}`);
        const agentOpts: AgentLaunch = { controller: url, name: flags.name, tokenFile: files.agent, stateDir: join(dataDir, 'agent') };
        if (flags.socket !== undefined) agentOpts.socket = resolve(flags.socket);
        if (flags.logLevel !== undefined) agentOpts.logLevel = flags.logLevel;
        agent = await launchAgent(agentOpts);
        if (flags.example) {
          p.step('creating the example network');
          example = await ensureExample(new ApiClient({ server: url, token: controller.adminToken, tokenSource: files.admin }));
        }
      } catch (e) {
        p.done();
        await stop().catch(() => undefined); // keep the original error
        throw e;
      }
      p.done();
      process.stdout.write(whatNext(invocation(), { url, dataDir, files, agent: flags.name, socket: agent.socketPath, example }));
      const sig = await waitForShutdown();
      process.stderr.write(`${sig}: stopping the agent and the controller\n`);
      await stop();
    });
}
