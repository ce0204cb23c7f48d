// weft wait KIND/NAME... --for=condition=Ready[=True|False] | --for=delete [--timeout=30s]
// Polls the controller (there is no watch API) until every resource meets
// the condition, like kubectl wait; one deadline covers them all.
import { InvalidArgumentError, type Command } from 'commander';
import { isWeftError } from '../../model/errors.js';
import type { AnyResource, Kind } from '../../model/kinds.js';
import type { Condition } from '../../model/meta.js';
import type { ApiClient } from '../api-client.js';
import { CliError, usageError } from '../cli-error.js';
import { addClientOptions, apiClientFor } from '../client-options.js';
import { parseDuration } from '../flags.js';
import { kindArgument } from './get.js';

const DEFAULT_WAIT_TIMEOUT = '30s';
const POLL_MS = 250;

export type WaitFor = { delete: true } | { delete: false; type: string; status: Condition['status'] };

const STATUSES: Record<string, Condition['status']> = { true: 'True', false: 'False', unknown: 'Unknown' };

/** --for: condition=TYPE (status True), condition=TYPE=True|False|Unknown, or delete. */
function parseWaitFor(value: string): WaitFor {
  if (value === 'delete') return { delete: true };
  const m = /^condition=([A-Za-z][A-Za-z0-9]*)(?:=([A-Za-z]+))?$/.exec(value);
  const status = m?.[2] === undefined ? 'True' : STATUSES[m[2].toLowerCase()];
  if (!m || status === undefined) {
    throw new InvalidArgumentError('Write --for=condition=TYPE, --for=condition=TYPE=True|False|Unknown (e.g. --for=condition=Ready) or --for=delete');
  }
  return { delete: false, type: m[1] as string, status };
}

export interface WaitTarget {
  kind: Kind;
  name: string;
}

/** KIND/NAME [KIND/NAME...], or KIND NAME [NAME...]. */
function parseTargets(args: string[]): WaitTarget[] {
  if (args.length === 0) throw usageError('weft wait needs KIND/NAME (e.g. weft wait network/blue --for=condition=Ready) or KIND NAME');
  const first = args[0] as string;
  if (!first.includes('/')) {
    const kind = kindArgument(first);
    const names = args.slice(1);
    if (names.length === 0) throw usageError(`weft wait ${first} needs a NAME, or write KIND/NAME`);
    const slashed = names.find((n) => n.includes('/'));
    if (slashed !== undefined) throw usageError(`${JSON.stringify(slashed)}: after a KIND give plain names; or write every target as KIND/NAME`);
    return names.map((name) => ({ kind, name }));
  }
  return args.map((a) => {
    const m = /^([^/]+)\/([^/]+)$/.exec(a);
    if (!m) throw usageError(`${JSON.stringify(a)} is not KIND/NAME (e.g. network/blue)`);
    return { kind: kindArgument(m[1] as string), name: m[2] as string };
  });
}

const idOf = (t: WaitTarget) => `${t.kind.toLowerCase()}/${t.name}`;

function findCondition(r: AnyResource, type: string): Condition | undefined {
  const conditions = (r.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  return conditions.find((c) => c.type.toLowerCase() === type.toLowerCase());
}

/** undefined when met; else why not, for the timeout message. */
async function unmet(client: ApiClient, t: WaitTarget, wanted: WaitFor): Promise<string | undefined> {
  let r: AnyResource;
  try {
    r = await client.get(t.kind, t.name);
  } catch (e) {
    if (wanted.delete && isWeftError(e) && e.code === 'NotFound') return undefined;
    // Waiting for a condition of something that does not exist: say so now, as kubectl does.
    throw e;
  }
  if (wanted.delete) return 'it still exists';
  const c = findCondition(r, wanted.type);
  if (!c) return `no ${wanted.type} condition`;
  if (c.status === wanted.status) return undefined;
  return `${c.type} is ${c.status}: ${c.reason}: ${c.message}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(client: ApiClient, targets: WaitTarget[], wanted: WaitFor, timeoutMs: number, write: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const t of targets) {
    for (;;) {
      const why = await unmet(client, t, wanted);
      if (why === undefined) {
        write(`${idOf(t)} condition met\n`);
        break;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new CliError(`timed out waiting for the condition on ${idOf(t)} (${why})`);
      await sleep(Math.min(POLL_MS, left));
    }
  }
}

interface WaitFlags {
  for: WaitFor;
  timeout: number;
}

export function registerWait(program: Command): void {
  const cmd = program
    .command('wait')
    .description('wait until resources meet a condition (or are deleted), like kubectl wait')
    .argument('<target...>', 'KIND/NAME (e.g. network/blue), repeatable; or KIND NAME [NAME...]')
    .requiredOption('--for <condition>', 'condition=TYPE[=True|False|Unknown] (e.g. condition=Ready) or delete', parseWaitFor)
    .option('--timeout <duration>', `give up after this long, e.g. 30s, 2m, 1m30s (default ${DEFAULT_WAIT_TIMEOUT})`, parseDuration)
    .action(async (args: string[], flags: WaitFlags, command: Command) => {
      const targets = parseTargets(args);
      const timeout = flags.timeout ?? parseDuration(DEFAULT_WAIT_TIMEOUT);
      await waitFor(apiClientFor(command), targets, flags.for, timeout, (line) => process.stdout.write(line));
    });
  addClientOptions(cmd);
}
