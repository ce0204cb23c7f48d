// The examples/ topology (networks, hosts, endpoints and firewall policies)
// survives a round trip: apply it, read every kind back with
// `weft get -o yaml`, apply that output: everything is `unchanged` and the
// store has not moved.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { controllerWithCli, storeDump } from './support/cli-harness.js';

const EXAMPLES = resolve(import.meta.dirname, '../../../examples');

type Ctl = Awaited<ReturnType<typeof controllerWithCli>>;

describe('examples/ round trip', () => {
  let ctl: Ctl;
  let dir: string;
  beforeEach(async () => {
    ctl = await controllerWithCli();
    dir = mkdtempSync(join(tmpdir(), 'weft-rt-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ctl.close();
  });

  test('every example document is created on the first apply', async () => {
    const r = await ctl.weft('apply', '-f', EXAMPLES);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    const documents = ['hosts.yaml', 'networks.yaml', 'endpoints.yaml', 'firewall.yaml']
      .map((f) => parseAllDocuments(readText(join(EXAMPLES, f))).length)
      .reduce((a, b) => a + b, 0);
    expect(lines).toHaveLength(documents);
    for (const line of lines) expect(line).toMatch(/^(network|host|endpoint|firewallpolicy)\/[a-z0-9.-]+ created$/);
    expect(lines).toEqual(expect.arrayContaining(['network/web created', 'host/node-a created', 'endpoint/db-primary created', 'firewallpolicy/db-ingress created']));
  });

  test('applying the examples again reports every resource unchanged and stores nothing', async () => {
    expect((await ctl.weft('apply', '-f', EXAMPLES)).code).toBe(0);
    const before = storeDump(ctl);
    const again = await ctl.weft('apply', '-f', EXAMPLES);
    expect(again.code).toBe(0);
    for (const line of again.out.trim().split('\n')) expect(line).toMatch(/ unchanged$/);
    expect(storeDump(ctl)).toBe(before);
  });

  test('the output of get -o yaml of every kind applies as unchanged, revision and store untouched', async () => {
    expect((await ctl.weft('apply', '-f', EXAMPLES)).code).toBe(0);
    const before = storeDump(ctl);
    const revision = ctl.store.revision();
    const files: string[] = [];
    for (const kind of ['networks', 'hosts', 'endpoints', 'firewallpolicies']) {
      const got = await ctl.weft('get', kind, '-o', 'yaml');
      expect(got.code).toBe(0);
      const file = join(dir, `${kind}.yaml`);
      writeFileSync(file, got.out);
      files.push(file);
    }
    const r = await ctl.weft('apply', ...files.flatMap((f) => ['-f', f]));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(5 + 3 + 10 + 3);
    for (const line of lines) expect(line).toMatch(/^(network|host|endpoint|firewallpolicy)\/[a-z0-9.-]+ unchanged$/);
    expect(ctl.store.revision()).toBe(revision);
    expect(storeDump(ctl)).toBe(before);
  });

  test('single objects from get NAME -o yaml apply as unchanged too', async () => {
    expect((await ctl.weft('apply', '-f', EXAMPLES)).code).toBe(0);
    const before = storeDump(ctl);
    for (const [kind, name] of [['network', 'db'], ['host', 'node-c'], ['endpoint', 'app-1.cache'], ['firewallpolicy', 'web-ingress']] as const) {
      const got = await ctl.weft('get', kind, name, '-o', 'yaml');
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, got.out);
      const r = await ctl.weft('apply', '-f', file);
      expect(r.out).toBe(`${kind}/${name} unchanged\n`);
    }
    expect(storeDump(ctl)).toBe(before);
  });
});

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
