import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KINDS } from '../../../../model/kinds.js';
import { exportCombinedSchema, exportKindSchema } from '../../../../model/schema-export.js';
import { cli } from '../support/cli-harness.js';


describe('weft schema', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-schema-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('without a kind prints the combined schema as JSON, needing no controller', async () => {
    // An unreachable server proves no request is made.
    const r = await cli('--server', 'http://127.0.0.1:1', 'schema');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(r.out)).toEqual(exportCombinedSchema());
    expect(r.out.endsWith('}\n')).toBe(true);
  });

  test.each([
    ['network', 'Network'],
    ['Networks', 'Network'],
    ['ep', 'Endpoint'],
    ['nodes', 'Host'],
  ] as const)('a kind by any name (%s) prints that kind', async (name, kind) => {
    const r = await cli('schema', name);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(exportKindSchema(kind));
  });

  test('-o yaml prints the same document as YAML', async () => {
    const r = await cli('schema', 'host', '-o', 'yaml');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\$schema: http:\/\/json-schema.org\/draft-07\/schema#\n\$id: https:\/\/weft.dev\/schemas\/v1\/host.json\n/);
    expect(parse(r.out)).toEqual(exportKindSchema('Host'));
  });

  test('--out writes one file per kind and weft.schema.json, and says so', async () => {
    const out = join(dir, 'schemas', 'nested');
    const r = await cli('schema', '--out', out);
    expect(r.code).toBe(0);
    const files = [...KINDS.map((k) => `${k.toLowerCase()}.json`), 'weft.schema.json'];
    expect(files.slice(0, 4)).toEqual(['network.json', 'endpoint.json', 'host.json', 'firewallpolicy.json']);
    expect(readdirSync(out).sort()).toEqual([...files].sort());
    expect(r.out).toBe(files.map((f) => `wrote ${join(out, f)}\n`).join(''));
    expect(JSON.parse(readFileSync(join(out, 'network.json'), 'utf8'))).toEqual(exportKindSchema('Network'));
    expect(JSON.parse(readFileSync(join(out, 'weft.schema.json'), 'utf8'))).toEqual(exportCombinedSchema());
  });

  test('--out with a kind writes that kind only', async () => {
    const r = await cli('schema', 'endpoints', '--out', dir);
    expect(r.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['endpoint.json']);
  });

  test('an unknown kind ends with status 1, listing the kinds and a suggestion', async () => {
    const r = await cli('schema', 'netwrk');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: unknown kind "netwrk" \(did you mean "Network"\?\); the kinds are Network \(networks.*Endpoint \(endpoints.*Host \(hosts/);
  });

  test('a directory that cannot be made ends with status 1', async () => {
    // Not under /proc: Node 20's recursive mkdirSync never returns there.
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await cli('schema', '--out', join(file, 'schemas'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: cannot write the schemas into ${join(file, 'schemas')}: ENOTDIR\n`);
  });

  test.each([
    [['schema', '-o', 'xml']],
    [['schema', '-o', 'wide']],
    [['schema', '--out', '/tmp/x', '-o', 'yaml']],
    [['schema', 'network', 'extra']],
  ])('usage errors end with status 2: weft %j', async (argv) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: /);
  });
});
