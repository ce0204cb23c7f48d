// How the plugin reaches the weft agent: `agentSocket` (a unix socket path)
// and `timeoutSeconds`.
import { truncatedJson } from './cni-error.js';
import { utf8Length, type Problems } from './cni-problems.js';
import { CNI_CODE } from './cni-types.js';

/** sun_path holds 108 bytes with the NUL. */
const AGENT_SOCKET_MAX = 107;
const TIMEOUT_SECONDS_MAX = 600;

export function parseAgentSocket(v: unknown, p: Problems): void {
  if (v === undefined) return;
  const s = p.string(v, 'agentSocket');
  if (s === undefined) return;
  const fix = 'the absolute path of the weft agent\'s unix socket, e.g. /run/weft/agent.sock';
  if (!s.startsWith('/')) p.add(CNI_CODE.InvalidConfig, 'agentSocket', `${truncatedJson(s)} is not an absolute path`, fix);
  else if (utf8Length(s) > AGENT_SOCKET_MAX) p.add(CNI_CODE.InvalidConfig, 'agentSocket', `is longer than ${AGENT_SOCKET_MAX} bytes, the limit of unix socket paths`, 'use a shorter path');
  else if (s.includes('\0')) p.add(CNI_CODE.InvalidConfig, 'agentSocket', 'contains a NUL character', fix);
}

export function parseTimeout(v: unknown, p: Problems): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > TIMEOUT_SECONDS_MAX) {
    p.add(CNI_CODE.InvalidConfig, 'timeoutSeconds', `must be an integer from 1 to ${TIMEOUT_SECONDS_MAX}, got ${truncatedJson(v, 40)}`, 'the seconds the plugin waits for the weft agent, 30 by default');
  }
}
