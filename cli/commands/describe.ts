// weft describe KIND NAME: one resource for people, like kubectl describe
// (the text is cli/describe-view.ts, loaded when the command runs).
import type { Command } from 'commander';
import type { EventList, WeftEvent } from '../../model/events.js';
import { kindArgumentHelp, type Kind } from '../../model/kind-names.js';
import type { ApiClient } from '../api-client.js';
import { addClientOptions, apiClientFor } from '../client-options.js';
import { kindArgument } from './get.js';

/** Events shown per resource: the controller keeps at most 50 of each. */
const EVENT_LIMIT = 50;

async function fetchEvents(client: ApiClient, kind: Kind, name: string, limit = EVENT_LIMIT): Promise<WeftEvent[]> {
  const q = new URLSearchParams({ kind, name, limit: String(limit) });
  const list = (await client.request('GET', `/api/v1/events?${q.toString()}`)) as EventList;
  return list.items;
}

export function registerDescribe(program: Command): void {
  const cmd = program
    .command('describe')
    .description('show one resource in detail: spec, conditions, per-host realisation and recent events')
    .argument('<kind>', kindArgumentHelp())
    .argument('<name>', 'name of the resource')
    .action(async (kindName: string, name: string, _flags: unknown, command: Command) => {
      const kind = kindArgument(kindName);
      const client = apiClientFor(command);
      // A name that does not exist ends here: NotFound, exit status 1.
      const resource = await client.get(kind, name);
      const events = await fetchEvents(client, kind, name);
      const { renderDescribe } = await import('../describe-view.js');
      process.stdout.write(renderDescribe(kind, resource, events));
    });
  addClientOptions(cmd);
}
