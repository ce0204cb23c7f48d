import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeftError } from '../../../../model/errors.js';
import { loadResourceFiles } from '../../../../cli/resource-files.js';
import { checkEditorText, markServerError } from '../../../../controller/console/editor-check.js';
import { editableYaml, TEMPLATES } from '../../../../controller/console/resource-yaml.js';
import type { Network } from '../../../../model/kinds.js';

const NET = `apiVersion: weft.dev/v1
kind: Network
metadata:
  name: blue
spec:
  subnet: 10.10.0.0/24
`;

const HOST = `apiVersion: weft.dev/v1
kind: Host
metadata:
  name: h1
spec: {}
`;

describe('editor checks', () => {
  test('a valid text gives its resources in the order weft apply sends them, and no problems', () => {
    const check = checkEditorText(`${HOST}---\n${NET}`);
    expect(check.problems).toEqual([]);
    expect(check.resources.map((r) => `${r.resource.kind}/${r.resource.metadata.name}`)).toEqual(['Network/blue', 'Host/h1']);
  });

  test('a problem is marked from its column to the end of its line, and described as weft apply prints it (LINE:COL)', () => {
    const text = `${NET}  mtu: big\n`;
    const [p, ...rest] = checkEditorText(text).problems;
    expect(rest).toEqual([]);
    expect(p?.text).toBe('7:8: /spec/mtu: must be integer, got string "big"');
    expect(text.slice(p?.from, p?.to)).toBe('big');
  });

  test('a syntax error at the very end of the text is still marked', () => {
    const text = 'kind: [Network';
    const { problems } = checkEditorText(text);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p.from).toBeGreaterThanOrEqual(0);
      expect(p.to).toBeGreaterThan(p.from);
      expect(p.to).toBeLessThanOrEqual(text.length);
    }
  });

  test('the console reports exactly what weft apply reports for the same text', () => {
    const text = `${NET}  colour: red\n---\n${NET.replace('blue', 'red').replace('10.10.0.0/24', '10.11.0.1/24')}---\n${NET}`;
    const dir = mkdtempSync(join(tmpdir(), 'weft-console-'));
    try {
      const file = join(dir, 'editor');
      writeFileSync(file, text);
      // The CLI names the file where the console has none: compare the rest.
      const cli = loadResourceFiles([file]).problems.map(({ file: _f, ...p }) => ({ ...p, message: p.message.replace(file, 'editor') }));
      const console = checkEditorText(text).problems.map(({ problem: { file: _f, ...p } }) => p);
      expect(console).toEqual(cli);
      expect(console.length).toBeGreaterThanOrEqual(3); // unknown field, duplicate name, host bits
      expect(checkEditorText(text).problems.map((p) => p.text)).toContainEqual('19:9: /metadata/name: duplicate Network "blue": first defined at line 4:9');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a server error about /items/N is marked in the N-th document sent', () => {
    const text = `${HOST}---\n${NET}`;
    const check = checkEditorText(text);
    // The network is sent first (index 0), though it is second in the text.
    const err = new WeftError('Overlap', 'subnet overlaps network red', { details: [{ path: '/items/0/spec/subnet', message: 'overlaps network red (10.10.0.0/16)' }] });
    const [p] = markServerError(text, err, check.resources);
    expect(p?.problem.line).toBe(12);
    expect(text.slice(p?.from, p?.to)).toBe('10.10.0.0/24');
  });

  test.each(Object.keys(TEMPLATES))('the %s template passes the checks', (kind) => {
    const check = checkEditorText(TEMPLATES[kind] as string);
    expect(check.problems.map((p) => p.text)).toEqual([]);
    expect(check.resources.map((r) => r.resource.kind)).toEqual([kind]);
  });

  test('an object loaded for editing keeps labels, spec and resourceVersion, and drops status and server fields', () => {
    const n: Network = {
      apiVersion: 'weft.dev/v1',
      kind: 'Network',
      metadata: { name: 'web', labels: { tier: 'web' }, resourceVersion: '7', generation: 2, uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { subnet: '10.1.0.0/24' },
      status: { vni: 4096 },
    };
    const text = editableYaml(n);
    expect(text).toBe('apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: web\n  labels:\n    tier: web\n  resourceVersion: "7"\nspec:\n  subnet: 10.1.0.0/24\n');
    expect(checkEditorText(text).problems).toEqual([]);
  });
});
