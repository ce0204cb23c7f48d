// Every VNF kind the agent can run: one driver each. A new kind registers
// its driver here and adds nothing to the agent.
import { firewallDriver } from './firewall/firewall-driver.js';
import { routerDriver } from './router/router-driver.js';
import type { VnfDriver } from './vnf-driver.js';

// Each driver is typed by its kind's spec and model; the VNF host hands a
// driver only plans of its kind and only the model it rendered, so the list
// holds them erased to the common shape.
export const VNF_DRIVERS: readonly VnfDriver[] = [firewallDriver as VnfDriver, routerDriver as VnfDriver];
