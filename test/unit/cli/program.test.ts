import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './support/cli-harness.js';


/** A URL on which nothing listens. */
async function closedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

describe('weft exit statuses', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-prog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the version with status 0', async () => {
    const r = await cli('--version');
    expect(r).toMatchObject({ code: 0, out: '9.9.9\n' });
  });

  it.each([
    [['nonsense']],
    [['get', 'widgets']],
    [['get', 'networks', '-o', 'xml']],
    [['up', '--listen', 'localhost']],
    [['run', '--network', 'Demo', '--', 'true']],
    [['run', '--network', 'demo', '--label', 'novalue', '--', 'true']],
    [['apply']],
  ])('usage errors end with status 2: weft %j', async (argv) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: /);
  });

  it('reports an unreachable controller with status 3', async () => {
    const r = await cli('get', 'networks', '--server', await closedUrl());
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^error: cannot reach the controller at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('global options also work before the subcommand', async () => {
    const r = await cli('--server', await closedUrl(), 'get', 'hosts');
    expect(r.code).toBe(3);
  });

  it('apply reports every problem with its position, applies nothing and ends with status 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: blue\nspec:\n  subnet: 10.1.0.1/24\n  colour: red\n');
    // The server is unreachable: validation must fail before any request is made.
    const r = await cli('apply', '-f', file, '--server', await closedUrl());
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${file}:6:11: /spec/subnet: "10.1.0.1/24" is not a valid IPv4 network`)),
      expect.stringMatching(new RegExp(`^${file}:7:3: /spec/colour: unknown field "colour"`)),
      'error: 2 problems in 1 file; nothing was applied',
      '',
    ]);
  });

  it('run without an agent fails with status 1 before making anything', async () => {
    const r = await cli('run', '--network', 'demo', '--socket', join(dir, 'none.sock'), '--', 'true');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/weft agent is not running \(no socket at .*none\.sock\)|weft run needs root/);
  });

  it.each([
    [['get', '--help']],
    [['--server', 'http://127.0.0.1:1', 'get', '--help']],
    [['--server=http://127.0.0.1:1', '--token-file', 'x', 'get', '--help']],
  ])('a subcommand built alone helps as in the whole tree: weft %j', async (argv) => {
    const alone = await cli(...argv);
    const whole = await cli('help', 'get');
    expect(alone).toEqual({ ...whole, code: 0 });
    expect(alone.out).toMatch(/^Usage: weft get /);
  });

  it('--help lists every subcommand', async () => {
    const r = await cli('--help');
    const listed = [...r.out.matchAll(/^  ([a-z-]+) /gm)].map((m) => m[1]);
    expect(listed).toEqual(expect.arrayContaining(['up', 'controller', 'agent', 'apply', 'diff', 'get', 'delete', 'describe', 'wait', 'explain', 'schema', 'run', 'lab', 'install-cni', 'reset']));
  });
});
