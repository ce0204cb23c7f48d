// Flag parsers for commander: each returns the parsed value or throws
// InvalidArgumentError with what is wrong and how to write it instead.
// Commander prefixes "option '--x <v>' argument 'y' is invalid." and the
// CLI exits with the usage status (2).
import { InvalidArgumentError } from 'commander';
import { HEARTBEAT_INTERVAL_MS } from '../model/agent-protocol.js';
import { parseDurationMs } from '../controller/config.js';
import { isIPv4 } from '../model/ipv4-text.js';
import { DNS_LABEL_PATTERN, IFNAME_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, MAC_PATTERN } from '../model/name-patterns.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** HOST:PORT, with [v6]:PORT for IPv6. Port 0 asks the kernel for a free one. */
export function parseListen(value: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value);
  if (!m) throw new InvalidArgumentError('Write HOST:PORT, e.g. 127.0.0.1:7400, 0.0.0.0:7400 or [::1]:7400');
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  if (port > 65535) throw new InvalidArgumentError(`Port ${port} is out of range: use 0-65535 (0 picks a free port)`);
  if (m[2] !== undefined && !isIPv4(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    throw new InvalidArgumentError(`${JSON.stringify(host)} is not an IPv4 address or host name`);
  }
  return { host, port };
}

export function formatListen(l: ListenAddress): string {
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

export function parseIPv4(value: string): string {
  if (!isIPv4(value)) throw new InvalidArgumentError('Write an IPv4 address: four numbers 0-255 separated by dots, e.g. 10.88.0.5');
  return value;
}

export function parseMac(value: string): string {
  if (!new RegExp(MAC_PATTERN).test(value)) throw new InvalidArgumentError('Write six hex octets separated by ":", e.g. 02:42:0a:58:00:05');
  if (parseInt(value.slice(0, 2), 16) & 1) throw new InvalidArgumentError('That is a multicast MAC: the first octet must be even, e.g. 02:...');
  return value.toLowerCase();
}

const OUTPUT_FORMATS = ['json', 'yaml', 'wide'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutput(value: string): OutputFormat {
  const v = value.toLowerCase();
  if (!(OUTPUT_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`Use one of: ${OUTPUT_FORMATS.join(', ')}`);
  return v as OutputFormat;
}

/** One k=v label; keys may carry a DNS prefix ("example.com/tier=web"). */
function parseLabel(value: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Write KEY=VALUE, e.g. --label app=web');
  const key = value.slice(0, eq);
  const val = value.slice(eq + 1);
  if (!new RegExp(LABEL_KEY_PATTERN).test(key) || key.length > 317) {
    throw new InvalidArgumentError(`Label key ${JSON.stringify(key)}: use letters, digits, "-", "_", "." (at most 63), optionally prefixed by a DNS name and "/"`);
  }
  if (!new RegExp(LABEL_VALUE_PATTERN).test(val) || val.length > 63) {
    throw new InvalidArgumentError(`Label value ${JSON.stringify(val)}: use at most 63 letters, digits, "-", "_", ".", starting and ending with a letter or digit`);
  }
  return [key, val];
}

/** Repeatable --label: accumulate into one map; commas also separate (like kubectl -l a=b,c=d). */
export function collectLabels(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const next = { ...previous };
  for (const part of value.split(',')) {
    const [k, v] = parseLabel(part.trim());
    next[k] = v;
  }
  return next;
}

/** Repeatable flag collecting strings (e.g. several -f). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseDnsLabel(what: string) {
  return (value: string): string => {
    if (value.length > 63 || !new RegExp(DNS_LABEL_PATTERN).test(value)) {
      throw new InvalidArgumentError(`${what} must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`);
    }
    return value;
  };
}

export function parseContainerName(value: string): string {
  if (value.length > 128 || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
    throw new InvalidArgumentError('Use 1-128 letters, digits, "_", "." or "-", starting with a letter or digit');
  }
  return value;
}

export function parseIfname(value: string): string {
  if (!new RegExp(IFNAME_PATTERN).test(value)) throw new InvalidArgumentError('Use 1-15 letters, digits, "_", "." or "-" (the kernel limit is 15 bytes), e.g. eth0');
  return value;
}

/** http(s) URL of the controller; a trailing slash is dropped. */
export function parseServerUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError('Write a URL such as http://127.0.0.1:7400');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`Use http:// or https://, not ${u.protocol}//`);
  if (u.search || u.hash) throw new InvalidArgumentError('Leave out the query and fragment: http://HOST:PORT');
  return value.replace(/\/+$/, '');
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function parseLogLevel(value: string): string {
  const v = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new InvalidArgumentError(`Use one of: ${LOG_LEVELS.join(', ')}`);
  return v;
}

export function parsePositiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('Write a number of seconds between 0 and 3600, e.g. 30');
  return n;
}

/**
 * A duration such as 15s, 2m, 500ms or 1m30s, in milliseconds. The syntax
 * and its limits are the controller's (controller/config.ts, dependency
 * free), so the flag and startController() accept exactly the same values.
 */
export function parseDuration(value: string): number {
  try {
    return parseDurationMs(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * --heartbeat-timeout: a duration of at least twice the agents' heartbeat
 * interval; anything shorter cuts healthy, idle agents off between two
 * heartbeats and makes every host flap.
 */
export function parseHeartbeatTimeout(value: string): number {
  const ms = parseDuration(value);
  const min = 2 * HEARTBEAT_INTERVAL_MS;
  if (ms < min) {
    throw new InvalidArgumentError(
      `${value} is shorter than twice the agents' heartbeat interval (${HEARTBEAT_INTERVAL_MS / 1000}s): healthy hosts would be cut off; use at least ${min / 1000}s`,
    );
  }
  return ms;
}

/** A host name reduced to a DNS label, for the local agent of `weft up`. */
export function sanitiseHostName(hostname: string): string {
  const first = hostname.split('.')[0] ?? '';
  const label = first
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return label === '' ? 'localhost' : label;
}
