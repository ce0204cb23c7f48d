// The process supervisor the agent runs: Supervisor's decisions over real
// processes (LinuxProcessOs).
import { LinuxProcessOs } from './linux-process-os.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';

export class LinuxProcessSupervisor extends Supervisor {
  constructor(options: SupervisorOptions) {
    super(new LinuxProcessOs(options.stateDir), options);
  }
}
