// What the agent's services need from the controller connection. The
// ControllerLink implements it; unit tests bind a stub.
import type { AgentMessage, EndpointReport, PlanBlock, PlanReservation } from '../model/agent-protocol.js';

export interface ControllerUplink {
  /** True once connected and hello was sent. */
  readonly connected: boolean;
  /**
   * Send a message; endpoint reports made while disconnected are queued
   * (and superseded by the next hello, which carries the full list).
   */
  send(msg: AgentMessage): void;
  /** Ask for another address block of `network` (NotReady when disconnected). */
  requestBlock(network: string): Promise<PlanBlock>;
  /** Reserve an address outside our blocks for `owner` (NotReady when disconnected). */
  requestStatic(network: string, ip: string, owner: string): Promise<PlanReservation>;
  /**
   * Report a new endpoint and wait, at most `timeoutMs`, until the controller
   * says every other host it concerns has applied it; resolves with the
   * hosts that were late. NotReady when disconnected or past the time.
   */
  announceEndpoint(endpoint: EndpointReport, timeoutMs: number): Promise<{ late: string[] }>;
}

export const CONTROLLER_UPLINK = Symbol.for('weft.ControllerUplink');
