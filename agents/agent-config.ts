// Settings of one agent process and the tokens for the objects every module
// shares (config, logger, the host namespace handle). Bound once in main.ts.
import type { Logger } from 'pino';

export interface AgentConfig {
  /** Host name as the controller knows it. */
  name: string;
  /** ws(s)/http(s) base URL of the controller. */
  controller: string;
  tokenFile: string;
  socketPath: string;
  stateDir: string;
  agentVersion: string;
  /** Underlay (VTEP) address; default: the local address of the controller connection. */
  underlayAddress?: string;
  /** Controller round trips (requestBlock/requestStatic). */
  requestTimeoutMs: number;
  /** Reconnect backoff bounds. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  heartbeatMs: number;
  /** Periodic reconcile pass that repairs drift nobody told us about. */
  resyncMs: number;
  /** How long start-up waits for the controller's plan before using the cached one. */
  firstPlanWaitMs: number;
}

export const AGENT_CONFIG = Symbol.for('weft.AgentConfig');
export const AGENT_LOGGER = Symbol.for('weft.AgentLogger');
/** NetnsHandle of the namespace the agent's bridges and host-side veths live in. */
export const HOST_HANDLE = Symbol.for('weft.HostHandle');

export type AgentLogger = Logger;
