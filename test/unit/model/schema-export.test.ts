import { Ajv } from 'ajv';
import { KINDS, SCHEMAS, type Kind } from '../../../model/kinds.js';
import {
  COMBINED_SCHEMA_FILE, exportCombinedSchema, exportKindSchema, exportSchemaFiles, JSON_SCHEMA_DIALECT, schemaId, toPlainJson,
} from '../../../model/schema-export.js';
import { checkShape, parseResource } from '../../../model/validate.js';

const V1 = 'weft.dev/v1';
const net = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'blue' }, extra: Record<string, unknown> = {}) => ({
  apiVersion: V1, kind: 'Network', metadata, spec, ...extra,
});
const ep = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: V1, kind: 'Endpoint', metadata: { name: 'web-1.eth0' }, spec: { network: 'blue', host: 'h1', containerId: 'web-1', ifname: 'eth0', ...spec }, ...extra,
});
const host = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: V1, kind: 'Host', metadata: { name: 'h1' }, spec, ...extra });
const cond = { type: 'Ready', status: 'True', reason: 'Ok', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' };

/** Documents whose verdict is the schema's alone: the server's shape check and the exported schema must agree. */
const SHAPE_TABLE: Array<[string, unknown, boolean]> = [
  ['minimal network', net({ subnet: '10.0.0.0/24' }), true],
  ['network with every spec field', net({ subnet: '10.0.0.0/16', gateway: '10.0.0.254', subnet6: 'fd00::/64', gateway6: 'fd00::1', mtu: 1450, vni: 42, blockSize: 26 }), true],
  ['network with labels and controller metadata', net({ subnet: '10.0.0.0/24' }, { name: 'a', labels: { 'example.com/tier': 'web', app: '' }, uid: 'u', resourceVersion: '3', generation: 2, creationTimestamp: 'x' }), true],
  ['network with status', net({ subnet: '10.0.0.0/24' }, { name: 'a' }, { status: { vni: 1, hosts: { h1: { ready: true, revision: 3 } }, conditions: [cond] } }), true],
  ['endpoint', ep({ ip: '10.0.0.9', mac: '02:00:00:00:00:01' }), true],
  ['endpoint with a status phase', ep({}, { status: { phase: 'Attached' } }), true],
  ['host', host({ address: '198.18.0.11', maxEndpoints: 10 }), true],
  ['host with an empty spec', host({}), true],
  ['missing apiVersion', { kind: 'Network', metadata: { name: 'a' }, spec: { subnet: '10.0.0.0/24' } }, false],
  ['wrong apiVersion', net({ subnet: '10.0.0.0/24' }, { name: 'a' }, { apiVersion: 'weft.dev/v2' }), false],
  ['unknown kind', { apiVersion: V1, kind: 'Widget', metadata: { name: 'a' }, spec: {} }, false],
  ['kind in the wrong case', { apiVersion: V1, kind: 'network', metadata: { name: 'a' }, spec: { subnet: '10.0.0.0/24' } }, false],
  ['missing kind', { apiVersion: V1, metadata: { name: 'a' }, spec: { subnet: '10.0.0.0/24' } }, false],
  ['missing metadata', { apiVersion: V1, kind: 'Network', spec: { subnet: '10.0.0.0/24' } }, false],
  ['missing spec', { apiVersion: V1, kind: 'Host', metadata: { name: 'h1' } }, false],
  ['unknown top-level field', net({ subnet: '10.0.0.0/24' }, { name: 'a' }, { extra: 1 }), false],
  ['misspelled spec field', net({ subnet: '10.0.0.0/24', gatway: '10.0.0.1' }), false],
  ['missing subnet', net({}), false],
  ['subnet of the wrong type', net({ subnet: 24 }), false],
  ['name with uppercase', net({ subnet: '10.0.0.0/24' }, { name: 'Blue' }), false],
  ['name too long', net({ subnet: '10.0.0.0/24' }, { name: 'a'.repeat(64) }), false],
  ['empty name', net({ subnet: '10.0.0.0/24' }, { name: '' }), false],
  ['unknown metadata field', net({ subnet: '10.0.0.0/24' }, { name: 'a', annotations: {} }), false],
  ['bad label value', net({ subnet: '10.0.0.0/24' }, { name: 'a', labels: { app: 'has space' } }), false],
  ['label value too long', net({ subnet: '10.0.0.0/24' }, { name: 'a', labels: { app: 'v'.repeat(64) } }), false],
  ['mtu below the minimum', net({ subnet: '10.0.0.0/24', mtu: 500 }), false],
  ['mtu above the maximum', net({ subnet: '10.0.0.0/24', mtu: 9001 }), false],
  ['mtu not an integer', net({ subnet: '10.0.0.0/24', mtu: 1400.5 }), false],
  ['vni 0', net({ subnet: '10.0.0.0/24', vni: 0 }), false],
  ['vni beyond 24 bits', net({ subnet: '10.0.0.0/24', vni: 16777216 }), false],
  ['blockSize /31', net({ subnet: '10.0.0.0/24', blockSize: 31 }), false],
  ['resourceVersion not numeric', net({ subnet: '10.0.0.0/24' }, { name: 'a', resourceVersion: 'v1' }), false],
  ['endpoint without ifname', { apiVersion: V1, kind: 'Endpoint', metadata: { name: 'x' }, spec: { network: 'n', host: 'h', containerId: 'c' } }, false],
  ['endpoint ifname longer than 15 bytes', ep({ ifname: 'a-very-long-ifname' }), false],
  ['endpoint mac malformed', ep({ mac: '02:00:00:00:00' }), false],
  ['endpoint network not a DNS label', ep({ network: 'Blue_Net' }), false],
  ['endpoint containerId empty', ep({ containerId: '' }), false],
  ['endpoint dotted name is fine, a dotted network is not', ep({ network: 'a.b' }), false],
  ['endpoint status phase not allowed', ep({}, { status: { phase: 'Running' } }), false],
  ['host maxEndpoints 0', host({ maxEndpoints: 0 }), false],
  ['host spec with a network field', host({ subnet: '10.0.0.0/24' }), false],
  ['host name with a dot', { apiVersion: V1, kind: 'Host', metadata: { name: 'h.1' }, spec: {} }, false],
  ['condition status not allowed', net({ subnet: '10.0.0.0/24' }, { name: 'a' }, { status: { conditions: [{ ...cond, status: 'Yes' }] } }), false],
  ['per-host status missing ready', net({ subnet: '10.0.0.0/24' }, { name: 'a' }, { status: { hosts: { h1: { revision: 1 } } } }), false],
  ['not an object', 'hello', false],
  ['an array', [net({ subnet: '10.0.0.0/24' })], false],
  ['null', null, false],
];

/** What only model/validate.ts's semantic checks see: the schema accepts, the server refuses. */
const SEMANTIC_ONLY: Array<[string, unknown]> = [
  ['subnet with host bits', net({ subnet: '10.0.0.1/24' })],
  ['subnet /31', net({ subnet: '10.0.0.0/31' })],
  ['gateway outside the subnet', net({ subnet: '10.0.0.0/24', gateway: '10.0.1.1' })],
  ['endpoint with a multicast mac', ep({ mac: '01:00:5e:00:00:01' })],
  ['endpoint ip not IPv4', ep({ ip: '10.0.0.300' })],
];

function compileExported() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const perKind = new Map(KINDS.map((k) => [k, ajv.compile(exportKindSchema(k))]));
  const combined = ajv.compile(exportCombinedSchema());
  return { ajv, perKind, combined };
}

function kindOf(doc: unknown): Kind | undefined {
  const k = (doc as { kind?: unknown } | null)?.kind;
  return KINDS.find((x) => x === k);
}

describe('one source of truth: the exported schema is the one the server validates with', () => {
  test.each(KINDS)('%s: the export is the typebox schema as plain JSON, only identified differently', (kind) => {
    const exported = exportKindSchema(kind);
    const { $schema, $id, title, ...body } = exported;
    expect($schema).toBe(JSON_SCHEMA_DIALECT);
    expect($id).toBe(`https://weft.dev/schemas/v1/${kind.toLowerCase()}.json`);
    expect(title).toContain(kind);
    const { $id: internalId, ...server } = JSON.parse(JSON.stringify(SCHEMAS[kind])) as Record<string, unknown>;
    expect(internalId).toBe(`weft.dev/v1/${kind}`);
    expect(body).toEqual(server);
  });

  test('the export is plain JSON: no symbol keys anywhere, and a JSON round trip changes nothing', () => {
    const symbols: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (v === null || typeof v !== 'object') return;
      if (Object.getOwnPropertySymbols(v).length > 0) symbols.push(at);
      for (const [k, x] of Object.entries(v)) walk(x, `${at}/${k}`);
    };
    for (const { file, schema } of exportSchemaFiles()) {
      walk(schema, file);
      expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    }
    expect(symbols).toEqual([]);
    // The source does carry typebox's symbols: the export really strips them.
    expect(Object.getOwnPropertySymbols(SCHEMAS.Network).length).toBeGreaterThan(0);
  });

  test('every exported document is a valid draft-07 schema', () => {
    const ajv = new Ajv({ strict: false });
    for (const { file, schema } of exportSchemaFiles()) expect([file, ajv.validateSchema(schema), ajv.errors ?? null]).toEqual([file, true, null]);
  });

  test('the files are one per kind plus the combined one, each with its own $id', () => {
    const files = exportSchemaFiles();
    expect(files.map((f) => f.file)).toEqual([...KINDS.map((k) => `${k.toLowerCase()}.json`), COMBINED_SCHEMA_FILE]);
    expect(files.map((f) => f.file).slice(0, 4)).toEqual(['network.json', 'endpoint.json', 'host.json', 'firewallpolicy.json']);
    expect(files.map((f) => f.schema.$id)).toEqual([...KINDS.map(schemaId), `https://weft.dev/schemas/v1/${COMBINED_SCHEMA_FILE}`]);
  });

  test('toPlainJson refuses values JSON cannot hold', () => {
    expect(() => toPlainJson({ a: NaN })).toThrow(/no JSON form/);
    expect(() => toPlainJson({ a: () => 1 })).toThrow(/no JSON form/);
    expect(toPlainJson({ a: undefined, b: [1, 'x', null] })).toEqual({ b: [1, 'x', null] });
  });

  describe('ajv with the exported schemas decides like the server', () => {
    const { perKind, combined } = compileExported();

    test.each(SHAPE_TABLE)('%s', (_name, doc, valid) => {
      const server = checkShape(doc).issues.length === 0;
      expect(server).toBe(valid);
      expect(combined(doc)).toBe(valid);
      const kind = kindOf(doc);
      if (kind) expect(perKind.get(kind)?.(doc)).toBe(valid);
    });

    test.each(SEMANTIC_ONLY)('%s: the schema accepts, the semantic checks of parseResource refuse', (_name, doc) => {
      expect(checkShape(doc).issues).toEqual([]);
      expect(combined(doc)).toBe(true);
      expect(() => parseResource(doc)).toThrow(/invalid/);
    });

    test('a label key outside the key pattern: both decide alike, whatever the verdict', () => {
      // typebox's Record emits patternProperties without additionalProperties:
      // false, so today both accept such keys; the point here is agreement.
      const doc = net({ subnet: '10.0.0.0/24' }, { name: 'a', labels: { 'bad key!': 'v' } });
      expect(combined(doc)).toBe(checkShape(doc).issues.length === 0);
      expect(perKind.get('Network')?.(doc)).toBe(checkShape(doc).issues.length === 0);
    });

    test('the combined schema reports the errors of the selected kind only', () => {
      expect(combined(net({ subnet: '10.0.0.0/24', colour: 'red' }))).toBe(false);
      const paths = (combined.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => `${e.schemaPath} ${e.instancePath}`);
      expect(paths.every((p) => p.startsWith('#/definitions/Network/'))).toBe(true);
    });
  });
});
