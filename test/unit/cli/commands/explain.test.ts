import { closest, renderExplain, typeName } from '../../../../cli/explain-view.js';
import { KIND_NAMES, KINDS } from '../../../../model/kinds.js';
import { cli } from '../support/cli-harness.js';


describe('weft explain', () => {
  test('a kind: header, description and its top-level fields', async () => {
    const r = await cli('explain', 'network');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(
      [
        'KIND:    Network',
        'VERSION: weft.dev/v1',
        'TYPE:    object',
        '',
        'DESCRIPTION:',
        '  An L2 segment with an IPv4 subnet, present as a bridge on every host that has',
        '  an endpoint on it.',
        '',
        'FIELDS:',
        '  apiVersion  <string>  -required-  one of: weft.dev/v1',
        '  kind        <string>  -required-  one of: Network',
        '  metadata    <object>  -required-',
        '  spec        <object>  -required-',
        '  status      <object>',
        '',
      ].join('\n'),
    );
  });

  test('a scalar field: path, type, required, description and range', () => {
    expect(renderExplain('net.spec.mtu')).toBe(
      [
        'KIND:     Network',
        'VERSION:  weft.dev/v1',
        'FIELD:    spec.mtu',
        'TYPE:     integer',
        'REQUIRED: no',
        '',
        'DESCRIPTION:',
        '  MTU of the bridge and every endpoint (1280-9000). Default: derived from the',
        '  underlay.',
        '',
        'RANGE: 1280 to 9000',
        '',
      ].join('\n'),
    );
  });

  test('an object field lists its sub-fields with types, required marks and one-line descriptions', () => {
    const out = renderExplain('networks.spec');
    expect(out).toContain('FIELD:    spec\nTYPE:     object\nREQUIRED: yes\n');
    expect(out).toMatch(/\nFIELDS:\n {2}subnet +<string> +-required- +IPv4 subnet in CIDR notation, e\.g\. 10\.10\.0\.0\/24\. Prefix length \/8 to \/30\.\n/);
    expect(out).toMatch(/\n {2}blockSize +<integer> {2,}Prefix length of the address blocks/);
  });

  test.each([
    ['endpoint.spec.ifname', ['TYPE:     string', 'REQUIRED: yes', 'PATTERN: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$']],
    ['ep.spec.containerId', ['PATTERN: ^[A-Za-z0-9][A-Za-z0-9_.-]*$', 'LENGTH:  1 to 128']],
    ['endpoint.status.phase', ['TYPE:     string', 'ALLOWED: Attached, Detaching, Failed']],
    ['host.spec.maxEndpoints', ['RANGE: >= 1']],
    ['host.apiVersion', ['REQUIRED: yes', 'ALLOWED: weft.dev/v1']],
    ['network.metadata.labels', ['TYPE:     map[string]string', 'KEY PATTERN:', 'VALUE PATTERN:', 'VALUE LENGTH:  at most 63']],
    ['network.status.hosts', ['TYPE:     map[string]object', 'ready     <boolean>  -required-']],
    ['host.status.blocks', ['TYPE:     []object', 'network  <string>  -required-']],
    ['network.status.conditions.status', ['FIELD:    status.conditions.status', 'ALLOWED: True, False, Unknown']],
    ['network.status.hosts.revision', ['FIELD:    status.hosts.revision', 'RANGE: >= 0']],
    ['NETWORK.Spec.MTU', ['FIELD:    spec.mtu']],
  ])('%s', (spec, expected) => {
    const out = renderExplain(spec);
    for (const line of expected) expect(out).toContain(line);
  });

  test('a field without a description says so', () => {
    expect(renderExplain('host.status.state')).toContain('DESCRIPTION:\n  <no description>\n');
  });

  test('--recursive lists nested fields indented under their parent', async () => {
    const r = await cli('explain', 'host', '--recursive');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\n {2}metadata +<object> +-required-\n {4}name +<string> +-required- +Unique name within the kind\.\n/);
    expect(r.out).toMatch(/\n {4}blocks +<\[\]object>\n {6}network +<string> +-required-\n/);
  });

  test.each([
    [['explain', 'netwrk'], /^error: unknown kind "netwrk" \(did you mean "Network"\?\); the kinds are Network \(networks, network, net, nets\); Endpoint \(endpoints, endpoint, ep, eps\); Host \(hosts, host, node, nodes\); FirewallPolicy \(firewallpolicies, firewallpolicy, fwp, policy, policies\)/],
    [['explain', 'widget.spec'], /^error: unknown kind "widget"; the kinds are Network/],
    [['explain', 'network.spec.mut'], /^error: field "mut" does not exist in Network\.spec \(did you mean "mtu"\?\); its fields are subnet, gateway, subnet6, gateway6, mtu, vni, blockSize\n$/],
    [['explain', 'network.sepc'], /^error: field "sepc" does not exist in Network \(did you mean "spec"\?\); its fields are apiVersion, kind, metadata, spec, status\n$/],
    [['explain', 'network.colour'], /^error: field "colour" does not exist in Network; its fields are/],
    [['explain', 'network.spec.mtu.bytes'], /^error: Network\.spec\.mtu is of type integer and has no fields, so "bytes" does not exist\n$/],
    [['explain', 'network.'], /^error: field "" does not exist in Network; its fields are/],
  ])('weft %j ends with status 1 and says what exists', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });

  test('an unknown kind lists every kind with all its names', async () => {
    const known = KINDS.map((k) => `${k} (${[KIND_NAMES[k].plural, ...KIND_NAMES[k].aliases].join(', ')})`).join('; ');
    expect((await cli('explain', 'netwrk')).err).toBe(`error: unknown kind "netwrk" (did you mean "Network"?); the kinds are ${known}\n`);
  });

  test('no argument is a usage error (status 2)', async () => {
    const r = await cli('explain');
    expect(r.code).toBe(2);
  });

  test('closest suggests only likely typos', () => {
    expect(closest('gatway', ['gateway', 'subnet'])).toBe('gateway');
    expect(closest('colour', ['gateway', 'subnet'])).toBeUndefined();
  });

  test('type names follow kubectl', () => {
    expect(typeName({ type: 'array', items: { type: 'string' } })).toBe('[]string');
    expect(typeName({ type: 'object', patternProperties: { '^(.*)$': { type: 'integer' } } })).toBe('map[string]integer');
    expect(typeName({ anyOf: [{ const: 1 }, { const: 2 }] })).toBe('integer');
    expect(typeName({})).toBe('any');
  });
});
