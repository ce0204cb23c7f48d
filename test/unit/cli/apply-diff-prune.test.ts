// `weft apply --dry-run`, `weft diff` and `weft apply --prune` driven
// in-process against an in-process controller: output, exit statuses, and
// the store (unchanged where nothing may change).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_DIFF_ERROR } from '../../../cli/commands/diff.js';
import { cli, controllerWithCli, storeDump } from './support/cli-harness.js';

type Ctl = Awaited<ReturnType<typeof controllerWithCli>>;

const network = (name: string, subnet: string, extra = '', labels = '') =>
  `apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: ${name}\n${labels ? `  labels: { ${labels} }\n` : ''}spec:\n  subnet: ${subnet}\n${extra}`;
const endpoint = (name: string, net: string, labels = '') =>
  `apiVersion: weft.dev/v1\nkind: Endpoint\nmetadata:\n  name: ${name}\n${labels ? `  labels: { ${labels} }\n` : ''}spec:\n  network: ${net}\n  host: h1\n  containerId: ${name.split('.')[0]}\n  ifname: eth0\n`;

describe('weft apply --dry-run, diff and --prune against a running controller', () => {
  let ctl: Ctl;
  let dir: string;
  const file = (name: string, ...docs: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, docs.join('---\n'));
    return path;
  };
  const networks = () => ctl.store.read((r) => r.listResources('Network').map((n) => n.metadata.name).sort());

  beforeEach(async () => {
    ctl = await controllerWithCli();
    dir = mkdtempSync(join(tmpdir(), 'weft-adp-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ctl.close();
  });

  describe('apply --dry-run', () => {
    test('=server stores nothing and reports the allocations of a new network', async () => {
      const f = file('blue.yaml', network('blue', '10.20.0.0/24'));
      const before = storeDump(ctl);
      const r = await ctl.weft('apply', '-f', f, '--dry-run=server');
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out).toBe('network/blue created (server dry run): vni 4096, gateway 10.20.0.1, mtu 1450\n');
      expect(storeDump(ctl)).toBe(before);
    });

    test('a bare --dry-run is the server dry run', async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24')));
      const revision = ctl.store.revision();
      const r = await ctl.weft('apply', '--dry-run', '-f', file('b.yaml', network('blue', '10.20.0.0/24', '  mtu: 1400\n')));
      expect(r.out).toBe('network/blue configured (server dry run): spec.mtu 1450 -> 1400\n');
      expect(ctl.store.revision()).toBe(revision);
    });

    test('=server reports validation errors found on the server with their position, status 1', async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24')));
      const f = file('b.yaml', network('red', '10.20.0.0/25'));
      const r = await ctl.weft('apply', '-f', f, '--dry-run=server');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`^${f}:6:11: /spec/subnet: `));
      expect(networks()).toEqual(['blue']);
    });

    test('=client checks locally and does not contact the controller', async () => {
      const f = file('blue.yaml', network('blue', '10.20.0.0/24'));
      const r = await cli('apply', '-f', f, '--dry-run=client', '--server', 'http://127.0.0.1:9');
      expect(r).toMatchObject({ code: 0, out: 'network/blue valid (client dry run)\n' });
    });

    test('an unknown mode is a usage error (2)', async () => {
      const r = await cli('apply', '-f', file('blue.yaml', network('blue', '10.20.0.0/24')), '--dry-run=maybe');
      expect(r.code).toBe(2);
      expect(r.err).toContain('--dry-run=server');
    });
  });

  describe('diff', () => {
    test('exit 1 with a new resource shown as all added, defaults marked; nothing stored', async () => {
      const f = file('blue.yaml', network('blue', '10.20.0.0/24', '', 'team: web'));
      const r = await ctl.weft('diff', '-f', f);
      expect(r).toMatchObject({ code: 1, err: '' });
      expect(r.out).toBe(
        [
          '--- live/network/blue',
          '+++ file/network/blue',
          '@@ -0,0 +1,9 @@',
          '+metadata:',
          '+  name: blue',
          '+  labels:',
          '+    team: web',
          '+spec:',
          '+  subnet: 10.20.0.0/24',
          '+  gateway: 10.20.0.1 # default',
          '+  mtu: 1450 # default',
          '+  vni: 4096 # allocated',
          '',
        ].join('\n'),
      );
      expect(ctl.store.revision()).toBe(0);
    });

    test('exit 0 and no output when the files match the live state (server defaults included)', async () => {
      const f = file('net.yaml', network('blue', '10.20.0.0/24'), endpoint('web.eth0', 'blue'));
      expect((await ctl.weft('apply', '-f', f)).code).toBe(0);
      const r = await ctl.weft('diff', '-f', f);
      expect(r).toEqual({ code: 0, out: '', err: '' });
    });

    test('exit 1 with only the changed resource, a changed field as -/+ lines', async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24'), network('red', '10.30.0.0/24')));
      const r = await ctl.weft('diff', '-f', file('b.yaml', network('blue', '10.20.0.0/24', '  mtu: 1400\n'), network('red', '10.30.0.0/24')));
      expect(r.code).toBe(1);
      expect(r.out).toContain('--- live/network/blue\n+++ file/network/blue\n');
      expect(r.out).toContain('\n-  mtu: 1450 # default\n+  mtu: 1400\n');
      expect(r.out).not.toContain('network/red');
    });

    test('with --prune, what would be pruned shows as all removed', async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24', '', 'app: x'), network('red', '10.30.0.0/24', '', 'app: x')));
      const r = await ctl.weft('diff', '-f', file('b.yaml', network('blue', '10.20.0.0/24', '', 'app: x')), '--prune', '-l', 'app=x');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^--- live\/network\/red\n\+\+\+ file\/network\/red\n@@ -1,9 \+0,0 @@\n-metadata:\n/);
      expect(networks()).toEqual(['blue', 'red']);
    });

    test(`a validation error exits ${EXIT_DIFF_ERROR}, not 1 (1 means "differences")`, async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24')));
      const r = await ctl.weft('diff', '-f', file('b.yaml', network('red', '10.20.0.0/25')));
      expect(r.code).toBe(EXIT_DIFF_ERROR);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/error: .*overlaps.*; nothing was compared\n$/);
    });

    test(`a local problem in the files exits ${EXIT_DIFF_ERROR}`, async () => {
      const r = await ctl.weft('diff', '-f', file('bad.yaml', network('blue', '10.20.0.0/24', '  colour: red\n')));
      expect(r.code).toBe(EXIT_DIFF_ERROR);
      expect(r.err).toContain('/spec/colour: unknown field "colour"');
    });

    test.each([
      [['diff']],
      [['diff', '-f', 'x.yaml', '--prune']],
      [['diff', '-f', 'x.yaml', '--bogus']],
    ])('usage errors exit 2: weft %j', async (argv) => {
      expect((await cli(...argv)).code).toBe(2);
    });

    test('an unreachable controller exits 3', async () => {
      const r = await cli('diff', '-f', file('blue.yaml', network('blue', '10.20.0.0/24')), '--server', 'http://127.0.0.1:9');
      expect(r.code).toBe(3);
    });
  });

  describe('apply --prune', () => {
    const all = () =>
      file(
        'all.yaml',
        network('blue', '10.20.0.0/24', '', 'app: x'),
        network('red', '10.30.0.0/24', '', 'app: x'),
        network('green', '10.40.0.0/24', '', 'app: y'),
        network('plain', '10.50.0.0/24'),
      );

    test('removes only the unlisted resources that match, and says so', async () => {
      expect((await ctl.weft('apply', '-f', all())).code).toBe(0);
      const r = await ctl.weft('apply', '-f', file('b.yaml', network('blue', '10.20.0.0/24', '', 'app: x')), '--prune', '-l', 'app=x');
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out).toBe('network/blue unchanged\nnetwork/red pruned\n');
      expect(networks()).toEqual(['blue', 'green', 'plain']);
    });

    test('-l repeated and comma lists all have to match', async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('a', '10.20.0.0/24', '', 'app: x, env: dev'), network('b', '10.30.0.0/24', '', 'app: x, env: prod')));
      const r = await ctl.weft('apply', '-f', file('c.yaml', network('c', '10.40.0.0/24')), '--prune', '-l', 'app=x', '-l', 'env=dev');
      expect(r.out).toBe('network/c created\nnetwork/a pruned\n');
      expect(networks()).toEqual(['b', 'c']);
    });

    test('a network with endpoints is refused (409), and the rest of the apply is not stored either', async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24', '', 'app: x'), network('red', '10.30.0.0/24', '', 'app: x'), endpoint('db.eth0', 'red')));
      const before = storeDump(ctl);
      const r = await ctl.weft('apply', '-f', file('b.yaml', network('blue', '10.20.0.0/24', '  mtu: 1400\n', 'app: x')), '--prune', '-l', 'app=x');
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toBe(
        'error: cannot prune: network "red" is still used by endpoint "db.eth0" (declared, not selected for pruning: delete it first, or add --cascade to delete it with the network); nothing was applied\n',
      );
      expect(storeDump(ctl)).toBe(before);
    });

    test('--cascade deletes the declared endpoints with their network', async () => {
      await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24', '', 'app: x'), network('red', '10.30.0.0/24', '', 'app: x'), endpoint('db.eth0', 'red')));
      const r = await ctl.weft('apply', '-f', file('b.yaml', network('blue', '10.20.0.0/24', '', 'app: x')), '--prune', '-l', 'app=x', '--cascade');
      expect(r.out).toBe('network/blue unchanged\nendpoint/db.eth0 pruned (cascade from network/red)\nnetwork/red pruned\n');
      expect(ctl.store.read((s) => s.listResources('Endpoint'))).toEqual([]);
    });

    test('--dry-run=server shows the prune and changes nothing', async () => {
      await ctl.weft('apply', '-f', all());
      const before = storeDump(ctl);
      const r = await ctl.weft('apply', '-f', file('b.yaml', network('blue', '10.20.0.0/24', '', 'app: x')), '--prune', '-l', 'app=x', '--dry-run=server');
      expect(r.out).toBe('network/blue unchanged (server dry run)\nnetwork/red pruned (server dry run)\n');
      expect(storeDump(ctl)).toBe(before);
    });

    test('--applyset labels what it applies and later prunes what left the files', async () => {
      const first = await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24'), network('red', '10.30.0.0/24')), '--prune', '--applyset', 'lab');
      expect(first.out).toBe('network/blue created\nnetwork/red created\n');
      await ctl.weft('apply', '-f', file('o.yaml', network('other', '10.40.0.0/24')));
      const r = await ctl.weft('apply', '-f', file('b.yaml', network('blue', '10.20.0.0/24')), '--prune', '--applyset', 'lab');
      expect(r.out).toBe('network/blue unchanged\nnetwork/red pruned\n');
      expect(networks()).toEqual(['blue', 'other']);
    });

    test('a file resource the selector does not match is applied with a warning', async () => {
      const r = await ctl.weft('apply', '-f', file('a.yaml', network('blue', '10.20.0.0/24')), '--prune', '-l', 'app=x');
      expect(r.code).toBe(0);
      expect(r.err).toBe('warning: network/blue does not carry app=x: a later --prune -l app=x will not delete it once it leaves the files\n');
    });

    test.each([
      [['--prune']],
      [['-l', 'app=x']],
      [['--applyset', 'lab']],
      [['--cascade']],
      [['--prune', '-l', 'novalue']],
      [['--prune', '--applyset', 'not a label']],
      [['--prune', '-l', 'app=x', '--dry-run=client']],
    ])('usage error (2), nothing applied: weft apply -f FILE %j', async (flags) => {
      const f = file('a.yaml', network('blue', '10.20.0.0/24'));
      const r = await ctl.weft('apply', '-f', f, ...flags);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error: /);
      expect(networks()).toEqual([]);
    });
  });
});
