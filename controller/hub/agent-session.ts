// One agent connection: its socket, the host it said it is, and the last
// plan sent to it (the baseline the next delta is computed from).
import type { WebSocket } from 'ws';
import type { ControllerMessage, HostPlan } from '../../model/agent-protocol.js';

export class AgentSession {
  host: string | undefined;
  baseline: HostPlan | undefined;
  lastSeen: number;
  /** Set when a newer connection from the same host took over. */
  replaced = false;

  constructor(
    readonly ws: WebSocket,
    readonly remote: string,
    now: number,
  ) {
    this.lastSeen = now;
  }

  send(msg: ControllerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
}
