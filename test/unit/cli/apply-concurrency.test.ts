// Two people apply conflicting edits of the same resources at the same
// moment, each carrying the resourceVersions they read: one apply wins,
// the other gets 409 Conflict saying what changed, and none of the loser's
// batch is applied (not even the parts that did not conflict).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { ApiClient } from '../../../cli/api-client.js';
import { loadResourceFiles } from '../../../cli/resource-files.js';
import { isWeftError, type WeftError } from '../../../model/errors.js';
import type { AnyResource } from '../../../model/kinds.js';
import { TOKENS } from '../controller/support/harness.js';
import { controllerWithCli, storeDump } from './support/cli-harness.js';

const EXAMPLES = resolve(import.meta.dirname, '../../../examples');

type Ctl = Awaited<ReturnType<typeof controllerWithCli>>;
type Doc = AnyResource & { status?: unknown };

describe('concurrent applies of conflicting changes', () => {
  let ctl: Ctl;
  let dir: string;
  beforeEach(async () => {
    ctl = await controllerWithCli();
    dir = mkdtempSync(join(tmpdir(), 'weft-race-'));
    expect((await ctl.weft('apply', '-f', EXAMPLES)).code).toBe(0);
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ctl.close();
  });

  /** What a user holds after `weft get KIND NAME -o yaml`: the object with its resourceVersion. */
  async function read(kind: string, name: string): Promise<Doc> {
    const r = await ctl.weft('get', kind, name, '-o', 'yaml');
    expect(r.code).toBe(0);
    return parse(r.out) as Doc;
  }

  /** One user's edit of web, app and endpoint web-1, plus a network only this user creates (listed first). */
  async function batch(who: 'alice' | 'bob', octet: number, lastOctet: number): Promise<string> {
    const web = await read('network', 'web');
    const app = await read('network', 'app');
    const ep = await read('endpoint', 'web-1');
    web.metadata.labels = { ...web.metadata.labels, owner: who };
    if (app.kind === 'Network') app.spec.blockSize = who === 'alice' ? 28 : 26;
    if (ep.kind === 'Endpoint') ep.spec.ip = `10.10.1.${lastOctet}`;
    const mine: Doc = { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: `${who}-net` }, spec: { subnet: `10.10.${octet}.0/24` } };
    const file = join(dir, `${who}.yaml`);
    writeFileSync(file, [mine, web, app, ep].map((d) => stringify(d)).join('---\n'));
    return file;
  }

  test('one wins, the other gets 409 naming what changed, and nothing of the loser is applied', async () => {
    // Both read the same versions before either writes.
    const files = { alice: await batch('alice', 50, 20), bob: await batch('bob', 51, 21) };
    const client = new ApiClient({ server: ctl.base, token: TOKENS.admin, tokenSource: 'test' });
    const send = (who: 'alice' | 'bob') => {
      const loaded = loadResourceFiles([files[who]]);
      expect(loaded.problems).toEqual([]);
      return client.apply(loaded.resources.map((r) => r.resource)).then(
        (ok) => ({ who, ok, err: undefined }),
        (err: unknown) => ({ who, ok: undefined, err }),
      );
    };

    const outcomes = await Promise.all([send('alice'), send('bob')]);

    const winners = outcomes.filter((o) => o.ok !== undefined);
    const losers = outcomes.filter((o) => o.err !== undefined);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const winner = (winners[0] as { who: 'alice' | 'bob' }).who;
    const loser = winner === 'alice' ? 'bob' : 'alice';
    const err = (losers[0] as { err: unknown }).err;
    expect(isWeftError(err)).toBe(true);
    const conflict = err as WeftError;
    expect(conflict.code).toBe('Conflict');
    expect(conflict.status).toBe(409);
    expect(conflict.message).toMatch(/^Network "web" changed since resourceVersion \d+: it is now at resourceVersion \d+ \(generation \d+\); the stored object differs from yours in \/metadata\/labels\/owner\. Read it again and redo your change$/);
    expect(conflict.details).toEqual([expect.objectContaining({ path: '/items/1/metadata/labels/owner', value: winner })]);

    // Every resource of the loser's batch holds the winner's version (or does not exist).
    const web = await read('network', 'web');
    const app = await read('network', 'app');
    const ep = await read('endpoint', 'web-1');
    expect(web.metadata.labels?.owner).toBe(winner);
    expect(app.spec).toMatchObject({ blockSize: winner === 'alice' ? 28 : 26 });
    expect(ep.spec).toMatchObject({ ip: winner === 'alice' ? '10.10.1.20' : '10.10.1.21' });
    expect((await ctl.call('GET', `/api/v1/networks/${winner}-net`)).status).toBe(200);
    expect((await ctl.call('GET', `/api/v1/networks/${loser}-net`)).status).toBe(404);
    const reservations = ctl.store.read((r) => r.listReservations({ network: 'web' }).map((x) => x.ip));
    expect(reservations).toContain(winner === 'alice' ? '10.10.1.20' : '10.10.1.21');
    expect(reservations).not.toContain(loser === 'alice' ? '10.10.1.20' : '10.10.1.21');
    expect(reservations).not.toContain('10.10.1.10');
  });

  test('the loser re-running weft apply sees the 409 at the stale resource, and the store stays as the winner left it', async () => {
    const files = { alice: await batch('alice', 50, 20), bob: await batch('bob', 51, 21) };
    expect((await ctl.weft('apply', '-f', files.alice)).code).toBe(0);
    const after = storeDump(ctl);

    const r = await ctl.weft('apply', '-f', files.bob);

    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${files.bob}:\\d+:\\d+: /metadata/labels/owner: the stored object has a different value \\(got "bob"\\)$`)),
      expect.stringMatching(/^error: Network "web" changed since resourceVersion \d+: it is now at resourceVersion \d+ .* \/metadata\/labels\/owner\. Read it again and redo your change; nothing was applied$/),
    ]);
    expect(storeDump(ctl)).toBe(after);
  });
});
