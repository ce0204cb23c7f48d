// The multi-host lab for tests. The harness lives in runtime/lab/ because the
// CLI (`weft lab up`) uses it too and nothing may import test/; tests import
// it from here.
export { Lab, defaultCli, LAB_CONTROLLER_URL, LAB_CONTROLLER_ADDRESS, type ExecResult, type LabDownReport, type LabNetwork, type LabOptions, type LabUpOptions, type Workload } from '../../runtime/lab/lab.js';
export { readLabState, type HostRecord, type LabState, type ProcessRecord } from '../../runtime/lab/lab-state.js';
export { isRunning, pidsInNetns, procStatFields, processArgv } from '../../runtime/lab/lab-process.js';
export { hostAddress, UNDERLAY_GATEWAY } from '../../runtime/lab/lab-address-plan.js';
export { listNetns } from '../../runtime/lab/lab-underlay.js';

/** Per-run namespace prefix for lab tests: wt<pid><tag>- (scripts/test sweeps and checks wt<digits>...-). */
export function labPrefix(tag: string): string {
  return `wt${process.pid % 100000}${tag}-`;
}
