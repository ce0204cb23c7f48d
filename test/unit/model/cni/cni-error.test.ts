import { CniError, cniErrorFromWeft, renderCniError, toCniError, truncatedJson } from '../../../../model/cni/cni-error.js';
import { WeftError, type ErrorCode, type FieldIssue } from '../../../../model/errors.js';

describe('CniError', () => {
  test('carries code, msg and details; its message joins msg and details', () => {
    const e = new CniError(7, 'invalid network configuration', 'network: "Blue" is not a weft network name');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('CniError');
    expect(e.code).toBe(7);
    expect(e.msg).toBe('invalid network configuration');
    expect(e.details).toBe('network: "Blue" is not a weft network name');
    expect(e.message).toBe('invalid network configuration: network: "Blue" is not a weft network name');
  });

  test('without details the message is the msg and details is undefined', () => {
    const e = new CniError(11, 'try again later', '');
    expect(e.details).toBeUndefined();
    expect(e.message).toBe('try again later');
  });

  test('keeps the cause', () => {
    const cause = new Error('boom');
    expect(new CniError(100, 'failed', undefined, { cause }).cause).toBe(cause);
  });
});

describe('renderCniError', () => {
  test.each(['0.4.0', '1.0.0', '1.1.0'])('is the spec error object at %s', (v) => {
    expect(renderCniError(v, new CniError(7, 'Invalid Configuration', 'Network 192.168.0.0/31 too small to allocate from.'))).toEqual({
      cniVersion: v,
      code: 7,
      msg: 'Invalid Configuration',
      details: 'Network 192.168.0.0/31 too small to allocate from.',
    });
  });

  test('omits details when there are none', () => {
    const out = renderCniError('1.1.0', new CniError(11, 'try again later'));
    expect(out).toEqual({ cniVersion: '1.1.0', code: 11, msg: 'try again later' });
    expect(Object.keys(out)).not.toContain('details');
    expect(JSON.stringify(out)).toBe('{"cniVersion":"1.1.0","code":11,"msg":"try again later"}');
  });
});

describe('cniErrorFromWeft maps the catalogue onto CNI codes', () => {
  test.each<[ErrorCode, number]>([
    ['NotReady', 11],
    ['BadJSON', 6],
    ['TooLarge', 5],
    ['NotFound', 7],
    ['AddressInUse', 101],
    ['Exhausted', 102],
    ['Conflict', 104],
    ['AlreadyExists', 104],
    ['Datapath', 100],
    ['Internal', 100],
    ['Unsupported', 100],
    ['Unauthorized', 100],
    ['Overlap', 100],
  ])('%s -> %i', (code, cni) => {
    const e = cniErrorFromWeft(new WeftError(code, `something about ${code}`));
    expect(e.code).toBe(cni);
    expect(e.msg.length).toBeLessThan(60);
    expect(e.details).toContain(`something about ${code}`);
    expect(e.details).toContain(`weft error ${code}`);
  });

  test.each<[string, string]>([
    ['/params/netns', 'CNI_NETNS'],
    ['/params/containerId', 'CNI_CONTAINERID'],
    ['/params/ifname', 'CNI_IFNAME'],
    ['/spec/ifname', 'CNI_IFNAME'],
    ['/netns', 'CNI_NETNS'],
  ])('Invalid at %s is an invalid environment variable (4) naming %s', (path, variable) => {
    const e = cniErrorFromWeft(new WeftError('Invalid', 'invalid attach parameters', { details: [{ path, message: 'bad' }] }));
    expect(e.code).toBe(4);
    expect(e.msg).toContain(variable);
  });

  test('Invalid naming several environment fields names every variable', () => {
    const details: FieldIssue[] = [
      { path: '/params/containerId', message: 'bad' },
      { path: '/params/ifname', message: 'too long' },
      { path: '/params/labels/x', message: 'bad label' },
    ];
    const e = cniErrorFromWeft(new WeftError('Invalid', 'invalid attach parameters', { details }));
    expect(e.code).toBe(4);
    expect(e.msg).toBe('invalid CNI_CONTAINERID, CNI_IFNAME');
  });

  test.each<[string, FieldIssue[]]>([
    ['an address', [{ path: '/params/ip', message: 'not an IPv4 address' }]],
    ['a label', [{ path: '/params/labels/app', message: 'invalid format' }]],
    ['the network', [{ path: '/params/network', message: 'is not a valid network name' }]],
    ['nothing in particular', []],
  ])('Invalid about %s is an invalid configuration (7)', (_what, details) => {
    const e = cniErrorFromWeft(new WeftError('Invalid', 'invalid attach parameters', { details }));
    expect(e.code).toBe(7);
    expect(e.msg).toBe('invalid network configuration');
  });

  test('details keep the weft message, each issue with path, message, value and allowed, and the code name', () => {
    const e = cniErrorFromWeft(
      new WeftError('Invalid', 'invalid attach parameters: /params/ip: not an IPv4 address (and 1 more)', {
        details: [
          { path: '/params/ip', message: '"10.0.0.300" is not an IPv4 address', value: '10.0.0.300' },
          { path: '/params/mac', message: 'is a multicast MAC', value: '01:00:5e:00:00:01', allowed: 'unicast MACs' },
        ],
      }),
    );
    expect(e.details).toBe(
      'invalid attach parameters: /params/ip: not an IPv4 address (and 1 more); ' +
        '/params/ip: "10.0.0.300" is not an IPv4 address (value: "10.0.0.300"); ' +
        '/params/mac: is a multicast MAC (value: "01:00:5e:00:00:01", allowed: unicast MACs) (weft error Invalid)',
    );
  });

  test('a WeftError rebuilt from an RPC error body maps the same way', () => {
    const body = new WeftError('AddressInUse', 'address 10.1.0.5 is in use by web-1.eth0').toJSON();
    const e = cniErrorFromWeft(WeftError.fromBody(body));
    expect(e.code).toBe(101);
    expect(e.details).toContain('10.1.0.5 is in use');
  });

  test('keeps the weft error as the cause', () => {
    const w = new WeftError('Exhausted', 'no free address in 10.1.0.0/30');
    expect(cniErrorFromWeft(w).cause).toBe(w);
  });
});

describe('toCniError', () => {
  test('passes a CniError through', () => {
    const e = new CniError(3, 'container unknown');
    expect(toCniError(e)).toBe(e);
  });

  test('maps a WeftError', () => {
    expect(toCniError(new WeftError('NotReady', 'no plan yet')).code).toBe(11);
  });

  test.each<[string, unknown]>([
    ['an Error', new Error('EPERM: operation not permitted')],
    ['a string', 'a thrown string'],
  ])('anything else is an internal error (100): %s', (_what, thrown) => {
    const e = toCniError(thrown);
    expect(e.code).toBe(100);
    expect(e.details).toBe(thrown instanceof Error ? thrown.message : thrown);
  });
});

describe('truncatedJson', () => {
  test('short values are their JSON text', () => {
    expect(truncatedJson({ a: 1 })).toBe('{"a":1}');
    expect(truncatedJson('x')).toBe('"x"');
    expect(truncatedJson(undefined)).toBe('undefined');
  });

  test('long values are cut to the limit with an ellipsis', () => {
    const t = truncatedJson('y'.repeat(500));
    expect(t).toHaveLength(80);
    expect(t.endsWith('...')).toBe(true);
  });
});
