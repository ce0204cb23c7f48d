import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeftError } from '../../../model/errors.js';
import { KINDS } from '../../../model/kinds.js';
import {
  formatProblem, identifyDocuments, loadResourceFiles, locateServerError, parseDocuments, requestSizeProblems, validateDocuments, type Problem,
} from '../../../cli/resource-files.js';

/** Validate text as one file and return the formatted problem lines. */
function problemsOf(text: string, file = 'net.yaml'): string[] {
  const parsed = parseDocuments(text, file);
  const validated = validateDocuments(parsed.docs);
  return [...parsed.problems, ...validated.problems].map(formatProblem);
}

const GOOD = `apiVersion: weft.dev/v1
kind: Network
metadata:
  name: blue
spec:
  subnet: 10.10.0.0/24
`;

describe('weft apply document positions', () => {
  it('accepts a valid multi-document file and keeps every resource', () => {
    const text = `${GOOD}---\n${GOOD.replace('blue', 'red').replace('10.10.0.0', '10.11.0.0')}`;
    const parsed = parseDocuments(text, 'a.yaml');
    const v = validateDocuments(parsed.docs);
    expect(parsed.problems).toEqual([]);
    expect(v.problems).toEqual([]);
    expect(v.resources.map((r) => r.resource.metadata.name)).toEqual(['blue', 'red']);
  });

  it('reports a YAML syntax error at its line and column', () => {
    const lines = problemsOf('apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: [blue\nspec: {}\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^net\.yaml:\d+:\d+: YAML: /);
  });

  it('reports a duplicate key as a YAML error at the second key', () => {
    expect(problemsOf('kind: Network\nkind: Network\n')).toEqual([expect.stringMatching(/^net\.yaml:2:1: YAML: duplicate key "kind" in one mapping \(first at line 1, column 1\)$/)]);
  });

  it('points an unknown field at its key, with the allowed fields', () => {
    const lines = problemsOf(`${GOOD}  colour: red\n`);
    expect(lines).toEqual([expect.stringMatching(/^net\.yaml:7:3: \/spec\/colour: unknown field "colour" \(allowed: subnet, gateway, /)]);
  });

  it('points a wrong type at the value', () => {
    const lines = problemsOf(`${GOOD}  mtu: big\n`);
    expect(lines).toEqual(['net.yaml:7:8: /spec/mtu: must be integer, got string "big"']);
  });

  it('points a bad CIDR at the subnet value', () => {
    const lines = problemsOf(GOOD.replace('10.10.0.0/24', '10.10.0.1/24'));
    expect(lines).toEqual([expect.stringMatching(/^net\.yaml:6:11: \/spec\/subnet: "10\.10\.0\.1\/24" is not a valid IPv4 network: host bits are set/)]);
  });

  it('reports a bad CIDR even when the same document has an unknown field', () => {
    expect(problemsOf(`${GOOD.replace('10.10.0.0/24', '10.10.0.1/24')}  colour: red\n`)).toEqual([
      expect.stringMatching(/^net\.yaml:6:11: \/spec\/subnet: "10\.10\.0\.1\/24" is not a valid IPv4 network/),
      expect.stringMatching(/^net\.yaml:7:3: \/spec\/colour: unknown field "colour"/),
    ]);
  });

  it('checks endpoint addresses next to shape errors', () => {
    const ep = ['apiVersion: weft.dev/v1', 'kind: Endpoint', 'metadata: {name: c1.eth0}', 'spec:', '  network: blue', '  containerId: c1', '  ifname: eth0', '  ip: 10.1.1'].join('\n');
    expect(problemsOf(ep)).toEqual(['net.yaml:4:1: /spec/host: required field "host" is missing', 'net.yaml:8:7: /spec/ip: "10.1.1" is not an IPv4 address']);
  });

  it('reports a missing kind at the start of the document', () => {
    const lines = problemsOf(GOOD.replace('kind: Network\n', ''));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^net\\.yaml:1:1: /kind: required field "kind" is missing \\(allowed: ${KINDS.join(', ')}\\)$`))]);
  });

  it('reports a missing required field at the key of the map it belongs in', () => {
    const lines = problemsOf(GOOD.replace('  subnet: 10.10.0.0/24\n', '  mtu: 1400\n'));
    expect(lines).toEqual(['net.yaml:5:1: /spec/subnet: required field "subnet" is missing']);
  });

  it('reports every problem of a file, across its documents', () => {
    const text = [
      'apiVersion: weft.dev/v1', // 1
      'kind: Network', // 2
      'metadata:', // 3
      '  name: Blue_Net', // 4
      'spec:', // 5
      '  subnet: 10.10.0.0/33', // 6
      '  mtu: 100', // 7
      '---', // 8
      'apiVersion: weft.dev/v2', // 9
      'kind: Netwrok', // 10
      'metadata: {name: x}', // 11
      'spec: {}', // 12
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^net\.yaml:4:9: \/metadata\/name: "Blue_Net" has an invalid format \(allowed: lowercase letters/),
      'net.yaml:6:11: /spec/subnet: "10.10.0.0/33" is not a valid IPv4 network: write an IPv4 prefix such as 10.10.0.0/24',
      'net.yaml:7:8: /spec/mtu: must be >= 1280, got 100 (allowed: 1280 to 9000)',
      'net.yaml:9:13: /apiVersion: unsupported apiVersion "weft.dev/v2" (allowed: weft.dev/v1)',
      `net.yaml:10:7: /kind: unknown kind "Netwrok" (did you mean "Network"?) (allowed: ${KINDS.join(', ')})`,
    ]);
  });

  it('reports the semantic subnet problem once the shape is right', () => {
    expect(problemsOf(GOOD.replace('10.10.0.0/24', '10.10.0.0/31'))).toEqual([
      expect.stringMatching(/^net\.yaml:6:11: \/spec\/subnet: prefix length \/31 is not allowed for a network \(allowed: \/8 to \/30/),
    ]);
  });

  it('reports a non-object document at its start', () => {
    expect(problemsOf('just a string\n')).toEqual(['net.yaml:1:1: /: a resource must be an object, got string']);
  });

  it('skips empty documents and comment-only documents', () => {
    const parsed = parseDocuments(`---\n# nothing\n---\n${GOOD}---\n`, 'a.yaml');
    expect(parsed.problems).toEqual([]);
    expect(parsed.docs).toHaveLength(1);
    expect(parsed.docs[0]?.index).toBe(1);
  });

  it('reports duplicate kind/name across files with both positions', () => {
    const a = parseDocuments(GOOD, 'a.yaml');
    const b = parseDocuments(`# copy\n${GOOD}`, 'b.yaml');
    const v = validateDocuments([...a.docs, ...b.docs]);
    expect(v.problems.map(formatProblem)).toEqual(['b.yaml:5:9: /metadata/name: duplicate Network "blue": first defined at a.yaml:4:9']);
    expect(v.resources).toHaveLength(1);
  });

  it('allows the same name for different kinds', () => {
    const ep = `apiVersion: weft.dev/v1\nkind: Host\nmetadata: {name: blue}\nspec: {}\n`;
    const v = validateDocuments(parseDocuments(`${GOOD}---\n${ep}`, 'a.yaml').docs);
    expect(v.problems).toEqual([]);
  });
});

describe('reading files and directories', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a sequence of 200,000 items is reported with its position, not a stack overflow', () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `${GOOD}  junk: [${Array.from({ length: 200_000 }, () => '0').join(',')}]\n`);
    const r = loadResourceFiles([file]);
    expect(r.problems.map(formatProblem)).toEqual([expect.stringMatching(new RegExp(`^${file}:7:3: /spec/junk: unknown field "junk"`))]);
  });

  it('reads every .yaml/.yml/.json file of a directory in name order, and stdin for -', () => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'b.yml'), GOOD.replace('blue', 'b').replace('10.10.0.0', '10.12.0.0'));
    writeFileSync(join(dir, 'd', 'a.yaml'), GOOD.replace('blue', 'a'));
    writeFileSync(join(dir, 'd', 'c.json'), JSON.stringify({ apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: 'h1' }, spec: {} }));
    writeFileSync(join(dir, 'd', 'notes.txt'), 'ignored');
    const r = loadResourceFiles([join(dir, 'd'), '-'], () => GOOD.replace('blue', 's').replace('10.10.0.0', '10.13.0.0'));
    expect(r.problems).toEqual([]);
    expect(r.resources.map((x) => x.resource.metadata.name)).toEqual(['a', 'b', 'h1', 's']);
    expect(r.resources[3]?.source.file).toBe('<stdin>');
  });

  it('reports a missing file without a position', () => {
    const r = loadResourceFiles([join(dir, 'nope.yaml')]);
    expect(r.problems.map(formatProblem)).toEqual([`${join(dir, 'nope.yaml')}: cannot read: ENOENT`]);
  });
});

describe('server errors mapped back to files', () => {
  const docs = [...parseDocuments(GOOD, 'a.yaml').docs, ...parseDocuments(GOOD.replace('blue', 'red'), 'b.yaml').docs];

  it('places /items/N paths in the N-th document sent', () => {
    const err = new WeftError('Overlap', 'subnet overlaps', { details: [{ path: '/items/1/spec/subnet', message: '10.10.0.0/24 overlaps network "blue"' }] });
    const located = locateServerError(err, docs) as Problem[];
    expect(located.map(formatProblem)).toEqual(['b.yaml:6:11: /spec/subnet: 10.10.0.0/24 overlaps network "blue"']);
  });

  it('uses the field when there are no details', () => {
    const err = new WeftError('AddressInUse', 'address in use', { field: '/items/0/metadata/name' });
    expect(locateServerError(err, docs)?.map(formatProblem)).toEqual(['a.yaml:4:9: /metadata/name: address in use (got "blue")']);
  });

  it('gives up when it cannot tell which document an error is about', () => {
    const err = new WeftError('Invalid', 'bad', { field: '/spec/subnet' });
    expect(locateServerError(err, docs)).toBeUndefined();
  });

  it('with a single document, every path belongs to it', () => {
    const err = new WeftError('Invalid', 'bad', { field: '/spec/subnet' });
    expect(locateServerError(err, docs.slice(0, 1))?.map(formatProblem)).toEqual(['a.yaml:6:11: /spec/subnet: bad (got "10.10.0.0/24")']);
  });
});

describe('delete -f identification', () => {
  it('needs only kind and name, and locates what is missing', () => {
    const parsed = parseDocuments(`${GOOD}  colour: red\n---\nkind: Network\nmetadata: {}\n---\nkind: Nope\n`, 'd.yaml');
    const r = identifyDocuments(parsed.docs);
    expect(r.targets.map((t) => `${t.kind}/${t.name}`)).toEqual(['Network/blue']);
    expect(r.problems.map(formatProblem)).toEqual([
      'd.yaml:10:1: /metadata/name: required field "name" is missing',
      `d.yaml:12:7: /kind: unknown kind "Nope" (allowed: ${KINDS.join(', ')})`,
    ]);
  });
});

describe('the request size limit', () => {
  it('names the files and sizes when the apply body would exceed the limit, and passes under it', () => {
    const docs = [...parseDocuments(GOOD, 'a.yaml').docs, ...parseDocuments(GOOD.replace('blue', 'red').replace('10.10.0.0', '10.11.0.0'), 'b.yaml').docs];
    const { resources } = validateDocuments(docs);
    expect(requestSizeProblems(resources)).toEqual([]);
    const [p] = requestSizeProblems(resources, 100);
    expect(formatProblem(p as Problem)).toMatch(
      /^a\.yaml: the apply request would be 0\.0 MiB \(\d+ bytes\) of JSON, over the controller's limit of 0\.0 MiB \(100 bytes\): a\.yaml 0\.0 MiB, b\.yaml 0\.0 MiB \(allowed: at most 100 bytes per apply; split the files into several applies\)$/,
    );
  });
});
