// The processes of the VNFs on this host (HAProxy, keepalived, dnsmasq...):
// what a driver renders as VnfProcessWant becomes files in the VNF's run
// directory and a supervised process inside its namespace. A change of the
// files reloads the process with its signal (or restarts it when it has
// none); a process the driver no longer renders is stopped. Processes
// outlive the agent: a restarted agent adopts them (the supervisor checks
// pidfile, /proc and namespace), it never starts a second copy.
//
// Process ids are `<netns>/<name>`: unique on the machine, and a VNF's
// processes are found by their namespace's prefix.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inject, injectable, optional } from 'inversify';
import { errorMessage } from '../../model/errors.js';
import { NETNS_RUN_DIR } from '../../model/kernel-names.js';
import type { VnfProcessWant, VnfWant } from '../../vnf/vnf-driver.js';
import { AGENT_CONFIG, type AgentConfig } from '../agent-config.js';
import { PROCESS_SUPERVISOR, type ProcessSupervisor } from '../datapath/process-supervisor.js';

const processId = (netns: string, name: string) => `${netns}/${name}`;

/** What identifies a process's configuration: a change of it means reload. */
export function configHash(p: VnfProcessWant): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(p.argv));
  for (const path of Object.keys(p.files).sort()) h.update(`\u0000${path}\u0000${p.files[path]}`);
  return h.digest('hex').slice(0, 16);
}

/** Write a file only when its content differs; atomically (write, then rename). */
function writeIfChanged(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) return;
  } catch {
    // absent: written below
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

@injectable()
export class VnfProcesses {
  private readonly root: string;

  constructor(
    @inject(AGENT_CONFIG) config: Pick<AgentConfig, 'stateDir'>,
    @inject(PROCESS_SUPERVISOR) @optional() private readonly supervisor?: ProcessSupervisor,
  ) {
    this.root = join(config.stateDir, 'vnf');
  }

  /** The directory of a VNF's files (its driver renders paths under it). */
  runDir(netns: string): string {
    return join(this.root, netns);
  }

  /** Bring the VNF's processes in line with what its driver wants; returns the problems (empty: all running). */
  async sync(want: VnfWant): Promise<string[]> {
    const problems: string[] = [];
    const path = `${NETNS_RUN_DIR}/${want.netns}`;
    const keep = new Set<string>();
    if (want.processes.length > 0 && !this.supervisor) return ['this agent runs no process supervisor'];
    for (const p of want.processes) {
      const id = processId(want.netns, p.name);
      keep.add(id);
      try {
        for (const [file, content] of Object.entries(p.files)) writeIfChanged(file, content);
        const state = await (this.supervisor as ProcessSupervisor).ensure({
          id,
          netns: path,
          argv: p.argv,
          configHash: configHash(p),
          ...(p.reloadSignal === undefined ? {} : { reload: { signal: p.reloadSignal } }),
        });
        if (state.state !== 'running' && state.state !== 'starting') problems.push(`process ${p.name}: ${state.state}${state.message ? ` (${state.message})` : ''}`);
      } catch (e: unknown) {
        problems.push(`process ${p.name}: ${errorMessage(e)}`);
      }
    }
    await this.stopOthers(want.netns, keep);
    return problems;
  }

  /** Stop every process of the VNF in `netns` and remove its files. */
  async stopAll(netns: string): Promise<void> {
    await this.stopOthers(netns, new Set());
    rmSync(this.runDir(netns), { recursive: true, force: true });
  }

  private async stopOthers(netns: string, keep: ReadonlySet<string>): Promise<void> {
    if (!this.supervisor) return;
    for (const s of this.supervisor.list()) {
      if (s.id.startsWith(`${netns}/`) && !keep.has(s.id)) await this.supervisor.stop(s.id);
    }
  }
}
