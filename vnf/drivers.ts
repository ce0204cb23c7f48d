// Every VNF kind the agent can run: one driver each. A new kind registers
// its driver here and adds nothing to the agent.
import { firewallDriver } from './firewall/firewall-driver.js';
import type { VnfDriver } from './vnf-driver.js';

export const VNF_DRIVERS: readonly VnfDriver[] = [firewallDriver as VnfDriver];
