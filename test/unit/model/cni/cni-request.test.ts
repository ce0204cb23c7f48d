import { CniError } from '../../../../model/cni/cni-error.js';
import { parseCniRequest } from '../../../../model/cni/cni-request.js';
import { parseCniResult } from '../../../../model/cni/cni-result-parse.js';
import { CNI_VERSIONS, type CniRequest } from '../../../../model/cni/cni-types.js';

type Env = Record<string, string | undefined>;

const ADD_ENV: Env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

function envFor(command: string, extra: Env = {}): Env {
  return { ...ADD_ENV, CNI_COMMAND: command, ...extra };
}

function conf(extra: Record<string, unknown> = {}, cniVersion = '1.0.0'): Record<string, unknown> {
  return { cniVersion, name: 'blue', type: 'weft', ...extra };
}

function parse(env: Env, config: unknown): CniRequest {
  return parseCniRequest(env, typeof config === 'string' ? config : JSON.stringify(config));
}

function errorOf(env: Env, config: unknown): CniError {
  try {
    parse(env, config);
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('parseCniRequest accepted the request');
}

/** The whole text a runtime shows: msg and details. */
const text = (e: CniError) => `${e.msg}\n${e.details ?? ''}`;

describe('CNI_COMMAND', () => {
  test.each<[string, string | undefined, RegExp]>([
    ['missing', undefined, /CNI_COMMAND: is not set/],
    ['empty', '', /CNI_COMMAND: is not set/],
    ['unknown', 'ATTACH', /CNI_COMMAND: "ATTACH" is not a CNI command/],
    ['lower case', 'add', /commands are upper case: ADD/],
  ])('%s -> 4 naming CNI_COMMAND', (_name, command, message) => {
    const e = errorOf({ ...ADD_ENV, CNI_COMMAND: command }, conf());
    expect(e.code).toBe(4);
    expect(e.msg).toContain('CNI_COMMAND');
    expect(text(e)).toMatch(message);
  });

  test('an unknown command lists the allowed ones', () => {
    expect(errorOf(envFor('ATTACH'), conf()).details).toContain('ADD, DEL, CHECK, STATUS, GC, VERSION');
  });

  test('is checked before stdin', () => {
    expect(errorOf({}, 'not json').code).toBe(4);
  });
});

describe('stdin', () => {
  test.each<[string, string, RegExp]>([
    ['empty', '', /stdin: is empty/],
    ['blank', '  \n', /stdin: is empty/],
    ['cut short', '{"cniVersion": "1.0.0", "name": tr', /not valid JSON: Unexpected end of JSON input \(the text ends at line 1, column 35: is it cut short\?\)/],
    ['an unterminated string', '{"cniVersion": "1.0.0", "name": "bl', /not valid JSON: Unterminated string in JSON at position 35 \(line 1, column 36\)/],
    ['trailing comma', '{"cniVersion": "1.0.0",}', /not valid JSON.*line 1, column 24/],
    ['error on line 3', '{\n "cniVersion": "1.0.0",\n "name" "blue"\n}', /not valid JSON.*line 3, column 9/],
    ['bad token, quoted by V8', '{"cniVersion": "1.0.0", "name": }', /not valid JSON: Unexpected token '}'.*"name": }/],
    ['an array', '[1, 2]', /must be a JSON object \(the plugin configuration\), got array/],
    ['null', 'null', /got null/],
    ['a string', '"weft"', /got string/],
  ])('%s -> 6', (_name, stdin, message) => {
    const e = errorOf(ADD_ENV, stdin);
    expect(e.code).toBe(6);
    expect(e.msg).toContain('stdin');
    expect(text(e)).toMatch(message);
  });
});

describe('cniVersion', () => {
  test.each(CNI_VERSIONS)('%s is accepted for ADD, CHECK and DEL', (v) => {
    for (const command of ['ADD', 'CHECK', 'DEL']) expect(parse(envFor(command), conf({}, v)).cniVersion).toBe(v);
  });

  test.each<[string, unknown, number, RegExp]>([
    ['missing', undefined, 7, /cniVersion: is missing/],
    ['a number', 1, 7, /cniVersion: must be a string, got number 1/],
    ['0.3.1', '0.3.1', 1, /cniVersion: "0.3.1" is not a version weft speaks/],
    ['2.0.0', '2.0.0', 1, /"2.0.0" is not a version/],
    ['garbage', 'latest', 1, /"latest" is not a version/],
  ])('%s -> %i', (_name, version, code, message) => {
    const config = { name: 'blue', type: 'weft', ...(version === undefined ? {} : { cniVersion: version }) };
    const e = errorOf(ADD_ENV, config);
    expect(e.code).toBe(code);
    expect(e.msg).toContain('cniVersion');
    expect(text(e)).toMatch(message);
  });

  test('an unsupported version lists the supported ones', () => {
    expect(errorOf(ADD_ENV, conf({}, '0.3.1')).details).toContain('0.4.0, 1.0.0, 1.1.0');
  });

  test.each<[string, string]>([
    ['STATUS', '1.0.0'],
    ['STATUS', '0.4.0'],
    ['GC', '1.0.0'],
    ['GC', '0.4.0'],
  ])('%s at %s -> 1: it needs 1.1.0', (command, v) => {
    const e = errorOf({ CNI_COMMAND: command }, conf({ 'cni.dev/valid-attachments': [] }, v));
    expect(e.code).toBe(1);
    expect(e.msg).toBe(`cniVersion: ${command} needs CNI 1.1.0, the configuration says ${v}`);
    expect(e.details).toContain('"cniVersion": "1.1.0"');
  });

  test('is checked before the environment', () => {
    expect(errorOf({ CNI_COMMAND: 'ADD' }, conf({}, '0.2.0')).code).toBe(1);
  });
});

describe('environment variables each command needs (spec section 2)', () => {
  test.each<[string, string]>([
    ['ADD', 'CNI_CONTAINERID'],
    ['ADD', 'CNI_NETNS'],
    ['ADD', 'CNI_IFNAME'],
    ['CHECK', 'CNI_CONTAINERID'],
    ['CHECK', 'CNI_NETNS'],
    ['CHECK', 'CNI_IFNAME'],
    ['DEL', 'CNI_CONTAINERID'],
    ['DEL', 'CNI_IFNAME'],
  ])('%s without %s -> 4 naming it', (command, variable) => {
    for (const value of [undefined, '']) {
      const e = errorOf(envFor(command, { [variable]: value }), conf());
      expect(e.code).toBe(4);
      expect(e.msg).toBe(`${variable}: is not set`);
      expect(e.details).toMatch(new RegExp(`^the runtime must set CNI_CONTAINERID, .*CNI_IFNAME for ${command}$`));
    }
  });

  test('every missing variable is named at once', () => {
    const e = errorOf({ CNI_COMMAND: 'ADD' }, conf());
    expect(e.code).toBe(4);
    expect(e.msg).toBe('CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME: are not set');
    expect(e.details).toBe('the runtime must set CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME for ADD');
  });

  test.each([undefined, ''])('DEL without CNI_NETNS (%p) is accepted and has no netns', (netns) => {
    const req = parse(envFor('DEL', { CNI_NETNS: netns }), conf());
    expect(req.netns).toBeUndefined();
    expect(Object.keys(req)).not.toContain('netns');
    expect(req.containerId).toBe('c1');
    expect(req.ifname).toBe('eth0');
  });

  test('DEL with CNI_NETNS passes it on', () => {
    expect(parse(envFor('DEL'), conf()).netns).toBe('/run/netns/c1');
  });

  test.each(['STATUS', 'GC'])('%s needs no attachment variables and ignores them', (command) => {
    const req = parse({ CNI_COMMAND: command, CNI_PATH: '/opt/cni/bin', CNI_ARGS: 'NOT=known' }, conf({ 'cni.dev/valid-attachments': [] }, '1.1.0'));
    expect(req.command).toBe(command);
    expect(req.containerId).toBeUndefined();
    expect(req.netns).toBeUndefined();
    expect(req.ifname).toBeUndefined();
  });

  test.each<[string, string, RegExp]>([
    ['CNI_CONTAINERID', 'has space', /"has space" is not a valid container ID/],
    ['CNI_CONTAINERID', '-leading-dash', /is not a valid container ID/],
    ['CNI_CONTAINERID', '_x', /is not a valid container ID/],
    ['CNI_CONTAINERID', 'a/b', /is not a valid container ID/],
    ['CNI_CONTAINERID', 'a'.repeat(129), /is 129 characters long, at most 128/],
    ['CNI_NETNS', 'run/netns/c1', /"run\/netns\/c1" is not an absolute path/],
    ['CNI_NETNS', '/run/netns/../c1', /has a "\." or "\.\." segment/],
    ['CNI_NETNS', '/run/./netns/c1', /has a "\." or "\.\." segment/],
    ['CNI_NETNS', '/run/netns/\u0000x', /NUL/],
    ['CNI_NETNS', `/${'n'.repeat(4095)}`, /at most 4095/],
    ['CNI_IFNAME', 'eth/0', /contains "\/", which the kernel refuses/],
    ['CNI_IFNAME', 'eth:0', /contains ":"/],
    ['CNI_IFNAME', 'eth 0', /contains " "/],
    ['CNI_IFNAME', 'eth\t0', /contains "\\t"/],
    ['CNI_IFNAME', '.', /"\." is not a usable interface name/],
    ['CNI_IFNAME', '..', /"\.\." is not a usable interface name/],
    ['CNI_IFNAME', 'a'.repeat(16), /is 16 bytes long, the kernel allows at most 15/],
    ['CNI_IFNAME', 'é'.repeat(8), /is 16 bytes long/],
    ['CNI_IFNAME', 'eth@0', /"eth@0" is not an interface name weft accepts/],
    ['CNI_IFNAME', '-eth0', /is not an interface name weft accepts/],
  ])('%s=%p -> 4 naming it', (variable, value, message) => {
    const e = errorOf(envFor('ADD', { [variable]: value }), conf());
    expect(e.code).toBe(4);
    expect(e.msg).toContain(variable);
    expect(text(e)).toMatch(message);
  });

  test.each<[string, string]>([
    ['CNI_CONTAINERID', 'a'.repeat(128)],
    ['CNI_CONTAINERID', 'A_b.c-9'],
    ['CNI_CONTAINERID', '0123456789abcdef'.repeat(4)],
    ['CNI_NETNS', '/proc/4242/ns/net'],
    ['CNI_NETNS', '/var/run/netns/cni-1234-abcd'],
    ['CNI_IFNAME', 'a'.repeat(15)],
    ['CNI_IFNAME', 'net1.100'],
    ['CNI_IFNAME', 'Eth_0-x'],
  ])('%s=%p is accepted', (variable, value) => {
    const req = parse(envFor('ADD', { [variable]: value }), conf());
    const field = { CNI_CONTAINERID: 'containerId', CNI_NETNS: 'netns', CNI_IFNAME: 'ifname' }[variable] as keyof CniRequest;
    expect(req[field]).toBe(value);
  });

  test('bad values and missing variables are reported together', () => {
    const e = errorOf({ CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'bad id', CNI_IFNAME: 'x'.repeat(20) }, conf());
    expect(e.code).toBe(4);
    expect(e.msg).toBe('CNI_NETNS: is not set (and 2 more: CNI_CONTAINERID, CNI_IFNAME)');
    expect(e.details).toMatch(/CNI_CONTAINERID: "bad id" is not a valid container ID .*; CNI_IFNAME: "x+" is 20 bytes long/);
  });

  test('environment problems come before configuration problems', () => {
    const e = errorOf(envFor('ADD', { CNI_IFNAME: '' }), { cniVersion: '1.0.0', type: 'bridge' });
    expect(e.code).toBe(4);
  });
});

describe('CNI_ARGS', () => {
  test.each<[string, Partial<CniRequest>]>([
    ['', {}],
    ['IP=10.1.0.5', { ip: '10.1.0.5' }],
    ['IP=10.1.0.5/24', { ip: '10.1.0.5', ipPrefixLength: 24 }],
    ['IP=10.1.0.5;', { ip: '10.1.0.5' }],
    [';;IP=10.1.0.5', { ip: '10.1.0.5' }],
    ['MAC=02:AA:bb:00:00:01', { mac: '02:aa:bb:00:00:01' }],
    ['FOO=bar;IgnoreUnknown=1', {}],
    ['IgnoreUnknown=TRUE;FOO=bar', {}],
    ['IgnoreUnknown=true;FOO=bar;BAR=', {}],
    ['IgnoreUnknown=0', {}],
    ['IgnoreUnknown=false', {}],
    [
      'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=1234-abcd',
      { k8s: { podNamespace: 'default', podName: 'web-0', podInfraContainerId: 'c1', podUid: '1234-abcd' } },
    ],
    ['K8S_POD_NAMESPACE=default;K8S_POD_NAME=', { k8s: { podNamespace: 'default' } }],
  ])('%p is accepted', (cniArgs, expected) => {
    const req = parse(envFor('ADD', { CNI_ARGS: cniArgs }), conf());
    expect(req).toMatchObject(expected);
    if (!('ip' in expected)) expect(req.ip).toBeUndefined();
    if (!('k8s' in expected)) expect(req.k8s).toBeUndefined();
  });

  test.each<[string, RegExp]>([
    ['FOO=bar', /unknown key FOO/],
    ['IP=10.1.0.5;FOO=bar', /unknown key FOO/],
    ['IgnoreUnknown=0;FOO=bar', /unknown key FOO/],
    ['ip=10.1.0.5', /unknown key ip/],
    ['IgnoreUnknown=yes', /IgnoreUnknown=yes is not a boolean/],
    ['IP', /pair 1 "IP" is not KEY=VALUE/],
    ['IP=10.1.0.5;MAC', /pair 2 "MAC" is not KEY=VALUE/],
    ['=10.1.0.5', /pair 1 "=10.1.0.5" is not KEY=VALUE/],
  ])('%p -> 4 naming CNI_ARGS', (cniArgs, message) => {
    const e = errorOf(envFor('ADD', { CNI_ARGS: cniArgs }), conf());
    expect(e.code).toBe(4);
    expect(e.msg).toContain('CNI_ARGS');
    expect(text(e)).toMatch(message);
  });

  test('an unknown key says how to pass it anyway', () => {
    expect(errorOf(envFor('ADD', { CNI_ARGS: 'FOO=1' }), conf()).details).toContain('IgnoreUnknown=1');
  });

  test.each<[string, RegExp]>([
    ['IP=10.1.0.300', /CNI_ARGS IP: "10.1.0.300" is not an IPv4 address/],
    ['IP=fd00::5', /CNI_ARGS IP: "fd00::5" is an IPv6 address; weft takes one IPv4 address, and on a dual-stack network the IPv6 address follows from it/],
    ['IP=10.1.0.5,10.1.0.6', /CNI_ARGS IP: asks for 2 IPv4 addresses/],
    ['IP=10.1.0.5/40', /CNI_ARGS IP: prefix length \/40 is out of range, 0-32/],
    ['MAC=01:00:5e:00:00:01', /CNI_ARGS MAC: .* is a multicast MAC/],
    ['MAC=nope', /CNI_ARGS MAC: "nope" is not a MAC address/],
  ])('a bad value in %p -> 4 naming CNI_ARGS and the key', (cniArgs, message) => {
    const e = errorOf(envFor('ADD', { CNI_ARGS: cniArgs }), conf());
    expect(e.code).toBe(4);
    expect(e.msg).toMatch(message);
  });
});

describe('requested address: runtimeConfig.ips > args.cni.ips > CNI_ARGS IP', () => {
  const cases: [string, Env, Record<string, unknown>, string | undefined, number | undefined][] = [
    ['runtimeConfig.ips wins over both', { CNI_ARGS: 'IP=10.1.0.9' }, { runtimeConfig: { ips: ['10.1.0.5/24'] }, args: { cni: { ips: ['10.1.0.7'] } } }, '10.1.0.5', 24],
    ['args.cni.ips wins over CNI_ARGS', { CNI_ARGS: 'IP=10.1.0.9' }, { args: { cni: { ips: ['10.1.0.7'] } } }, '10.1.0.7', undefined],
    ['CNI_ARGS IP is ignored, even when bad, once args give ips', { CNI_ARGS: 'IP=garbage' }, { args: { cni: { ips: ['10.1.0.7'] } } }, '10.1.0.7', undefined],
    ['an empty runtimeConfig.ips falls through', { CNI_ARGS: 'IP=10.1.0.9/16' }, { runtimeConfig: { ips: [] }, args: { cni: { ips: [] } } }, '10.1.0.9', 16],
    ['no source, no address', {}, { runtimeConfig: { portMappings: [] } }, undefined, undefined],
    ['a /32 keeps its length', {}, { runtimeConfig: { ips: ['10.1.0.5/32'] } }, '10.1.0.5', 32],
  ];
  test.each(cases)('%s', (_name, env, extra, ip, prefixLength) => {
    const req = parse(envFor('ADD', env), conf(extra));
    expect(req.ip).toBe(ip);
    expect(req.ipPrefixLength).toBe(prefixLength);
  });

  test.each<[string, unknown, string, RegExp]>([
    ['two IPv4 addresses', ['10.1.0.5', '10.1.0.6'], 'runtimeConfig.ips', /asks for 2 IPv4 addresses \(10.1.0.5, 10.1.0.6\); weft gives each interface one IPv4 address/],
    ['an IPv6 address', ['fd00::5/64'], 'runtimeConfig.ips[0]', /IPv6 address; weft takes one IPv4 address/],
    ['dual stack', ['10.1.0.5/24', 'fd00::5/64'], 'runtimeConfig.ips[1]', /IPv6/],
    ['a bad address', ['10.1.0.300'], 'runtimeConfig.ips[0]', /"10.1.0.300" is not an IPv4 address/],
    ['a hostname', ['db.local'], 'runtimeConfig.ips[0]', /is not an IPv4 address/],
    ['a bad prefix length', ['10.1.0.5/33'], 'runtimeConfig.ips[0]', /prefix length \/33 is out of range/],
    ['a number entry', [17], 'runtimeConfig.ips[0]', /must be a string, got number 17/],
    ['a string, not a list', '10.1.0.5', 'runtimeConfig.ips', /must be an array, got string/],
  ])('runtimeConfig.ips with %s -> 7 at the entry', (_name, ips, where, message) => {
    const e = errorOf(ADD_ENV, conf({ runtimeConfig: { ips } }));
    expect(e.code).toBe(7);
    expect(e.msg.startsWith(`${where}: `)).toBe(true);
    expect(e.msg).toMatch(message);
  });

  test('args.cni.ips problems name args.cni.ips', () => {
    const e = errorOf(ADD_ENV, conf({ args: { cni: { ips: ['10.1.0.5', '2001:db8::5'] } } }));
    expect(e.code).toBe(7);
    expect(e.msg).toMatch(/^args\.cni\.ips\[1\]: "2001:db8::5" is an IPv6 address/);
  });

  test.each(['DEL', 'CHECK'])('%s reads the address as ADD does', (command) => {
    expect(parse(envFor(command), conf({ runtimeConfig: { ips: ['10.1.0.5/24'] } })).ip).toBe('10.1.0.5');
  });
});

describe('requested MAC: runtimeConfig.mac > CNI_ARGS MAC', () => {
  test('runtimeConfig.mac wins and is lower-cased', () => {
    const req = parse(envFor('ADD', { CNI_ARGS: 'MAC=02:00:00:00:00:09' }), conf({ runtimeConfig: { mac: '02:AB:CD:00:00:01' } }));
    expect(req.mac).toBe('02:ab:cd:00:00:01');
  });

  test('CNI_ARGS MAC is used without runtimeConfig.mac', () => {
    expect(parse(envFor('ADD', { CNI_ARGS: 'MAC=02:00:00:00:00:09' }), conf()).mac).toBe('02:00:00:00:00:09');
  });

  test.each<[unknown, RegExp]>([
    ['01:00:5e:00:00:01', /01:00:5e:00:00:01 is a multicast MAC; an interface needs a unicast address/],
    ['ff:ff:ff:ff:ff:ff', /is a multicast MAC/],
    ['00:00:00:00:00:00', /the all-zero MAC is not a usable address/],
    ['02-00-00-00-00-01', /is not a MAC address/],
    ['02:00:00:00:00', /is not a MAC address/],
    [42, /must be a string, got number/],
  ])('runtimeConfig.mac %p -> 7', (mac, message) => {
    const e = errorOf(ADD_ENV, conf({ runtimeConfig: { mac } }));
    expect(e.code).toBe(7);
    expect(e.msg).toContain('runtimeConfig.mac');
    expect(e.msg).toMatch(message);
  });
});

describe('configuration fields', () => {
  test.each<[string, Record<string, unknown>, number, string, RegExp]>([
    ['type missing', { cniVersion: '1.0.0', name: 'blue' }, 7, 'type', /type: is missing/],
    ['type of another plugin', conf({ type: 'bridge' }), 7, 'type', /type: is "bridge", but this plugin is "weft"/],
    ['name missing', { cniVersion: '1.0.0', type: 'weft' }, 7, 'name', /name: is missing/],
    ['name not a string', conf({ name: 5 }), 7, 'name', /name: must be a string, got number 5/],
    ['name with a space', conf({ name: 'my net' }), 7, 'name', /"my net" is not a valid network configuration name/],
    ['name starting with a dot', conf({ name: '.net' }), 7, 'name', /is not a valid network configuration name/],
    ['network not a DNS label', conf({ network: 'Blue' }), 7, 'network', /network: "Blue" is not a weft network name/],
    ['network too long', conf({ network: 'a'.repeat(64) }), 7, 'network', /is not a weft network name/],
    ['network not a string', conf({ network: ['blue'] }), 7, 'network', /must be a string, got array/],
    ['no network and a name that is no DNS label', conf({ name: 'Blue_Net' }), 7, 'network', /network: is not set and the configuration's name "Blue_Net" is not a weft network name/],
    ['agentSocket relative', conf({ agentSocket: 'agent.sock' }), 7, 'agentSocket', /"agent.sock" is not an absolute path/],
    ['agentSocket too long', conf({ agentSocket: `/${'s'.repeat(107)}` }), 7, 'agentSocket', /longer than 107 bytes/],
    ['agentSocket not a string', conf({ agentSocket: true }), 7, 'agentSocket', /must be a string, got boolean/],
    ['timeoutSeconds 0', conf({ timeoutSeconds: 0 }), 7, 'timeoutSeconds', /must be an integer from 1 to 600, got 0/],
    ['timeoutSeconds 601', conf({ timeoutSeconds: 601 }), 7, 'timeoutSeconds', /got 601/],
    ['timeoutSeconds fractional', conf({ timeoutSeconds: 1.5 }), 7, 'timeoutSeconds', /got 1.5/],
    ['timeoutSeconds a string', conf({ timeoutSeconds: '30' }), 7, 'timeoutSeconds', /got "30"/],
    ['capabilities not an object', conf({ capabilities: ['ips'] }), 7, 'capabilities', /must be an object, got array/],
    ['capability not a boolean', conf({ capabilities: { ips: 'yes' } }), 7, 'capabilities.ips', /must be true or false, got string "yes"/],
    ['runtimeConfig not an object', conf({ runtimeConfig: 'x' }), 7, 'runtimeConfig', /must be an object, got string/],
    ['disableCheck not a boolean', conf({ disableCheck: 'true' }), 7, 'disableCheck', /must be true or false/],
    ['disableGC not a boolean', conf({ disableGC: 1 }), 7, 'disableGC', /must be true or false/],
    ['loadOnlyInlinedPlugins not a boolean', conf({ loadOnlyInlinedPlugins: null }), 7, 'loadOnlyInlinedPlugins', /must be true or false, got null/],
    ['cniVersions not a list', conf({ cniVersions: '1.0.0' }), 7, 'cniVersions', /must be an array/],
    ['cniVersions with a number', conf({ cniVersions: ['1.0.0', 1] }), 7, 'cniVersions[1]', /must be a string/],
  ])('%s -> %i at %s', (_name, config, code, where, message) => {
    const e = errorOf(ADD_ENV, config);
    expect(e.code).toBe(code);
    expect(e.msg.startsWith(`${where}: `)).toBe(true);
    expect(text(e)).toMatch(message);
  });

  test('a name that is no DNS label says to set "network"', () => {
    expect(errorOf(ADD_ENV, conf({ name: 'Blue_Net' })).details).toContain('set "network" to the weft network');
  });

  test('the network defaults to the name', () => {
    const req = parse(ADD_ENV, conf());
    expect(req.configName).toBe('blue');
    expect(req.network).toBe('blue');
  });

  test('network names the weft network when the name is not a DNS label', () => {
    const req = parse(ADD_ENV, conf({ name: 'Blue_Net.v2', network: 'blue' }));
    expect(req.configName).toBe('Blue_Net.v2');
    expect(req.network).toBe('blue');
  });

  test('every accepted field at once', () => {
    const req = parse(
      ADD_ENV,
      conf(
        {
          cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
          network: 'blue',
          agentSocket: '/run/weft/agent.sock',
          timeoutSeconds: 600,
          capabilities: { ips: true, mac: true, portMappings: false },
          runtimeConfig: { ips: ['10.1.0.5/24'], mac: '02:00:00:00:00:05', portMappings: [{ hostPort: 8080, containerPort: 80 }], bandwidth: {} },
          args: { labels: { app: 'web' }, cni: { labels: [{ key: 'tier', value: 'front' }], other: 1 }, somethingElse: { x: 1 } },
          dns: { nameservers: ['10.1.0.1', 'fd00::1'], domain: 'example.com', search: ['svc.example.com'], options: ['ndots:5', 'rotate'] },
          disableCheck: false,
          disableGC: false,
          loadOnlyInlinedPlugins: false,
          'cni.dev/valid-attachments': [],
          'cni.dev/some-future-key': { x: 1 },
        },
        '1.1.0',
      ),
    );
    expect(req).toEqual({
      command: 'ADD',
      cniVersion: '1.1.0',
      configName: 'blue',
      network: 'blue',
      containerId: 'c1',
      netns: '/run/netns/c1',
      ifname: 'eth0',
      ip: '10.1.0.5',
      ipPrefixLength: 24,
      mac: '02:00:00:00:00:05',
      labels: { app: 'web', tier: 'front' },
      dns: { nameservers: ['10.1.0.1', 'fd00::1'], domain: 'example.com', search: ['svc.example.com'], options: ['ndots:5', 'rotate'] },
    });
  });

  test('optional objects given as null are absent', () => {
    const req = parse(envFor('DEL'), conf({ capabilities: null, runtimeConfig: null, args: null, dns: null, prevResult: null }));
    expect(req).toEqual({ command: 'DEL', cniVersion: '1.0.0', configName: 'blue', network: 'blue', containerId: 'c1', netns: '/run/netns/c1', ifname: 'eth0', labels: {} });
  });

  test('a minimal request has no undefined fields', () => {
    const req = parse(ADD_ENV, conf());
    expect(req).toEqual({ command: 'ADD', cniVersion: '1.0.0', configName: 'blue', network: 'blue', containerId: 'c1', netns: '/run/netns/c1', ifname: 'eth0', labels: {} });
    expect(Object.values(req)).not.toContain(undefined);
  });

  test('all problems of the configuration are reported together, the first deciding the code', () => {
    const e = errorOf(ADD_ENV, conf({ type: 'bridge', timeoutSeconds: 0, mtu: 1400 }));
    expect(e.code).toBe(7);
    expect(e.msg).toMatch(/^type: .* \(and 2 more: mtu, timeoutSeconds\)$/);
    expect(e.details?.split('; ').length).toBeGreaterThanOrEqual(3);
  });
});

describe('unsupported and unknown fields -> 2 with key and value', () => {
  test.each<[string, unknown, RegExp]>([
    ['ipam', { type: 'host-local', subnet: '10.1.0.0/16' }, /weft allocates addresses from the weft network's subnet/],
    ['ipMasq', true, /weft does not masquerade/],
    ['mtu', 1400, /set spec\.mtu on the weft network/],
    ['bridge', 'cni0', /weft names and manages the bridge/],
    ['isGateway', true, /spec\.gateway/],
    ['isDefaultGateway', true, /default route/],
    ['hairpinMode', true, /hairpin/],
    ['subnet', '10.1.0.0/16', /set spec\.subnet on the weft network/],
    ['plugins', [{ type: 'weft' }], /whole network configuration list/],
  ])('%s', (key, value, hint) => {
    const e = errorOf(ADD_ENV, conf({ [key]: value }));
    expect(e.code).toBe(2);
    expect(e.msg).toBe(`${key}: is not supported by weft (value ${JSON.stringify(value)})`);
    expect(e.details).toMatch(hint);
  });

  test('an unknown field names its key and value', () => {
    const e = errorOf(ADD_ENV, conf({ colour: 'red' }));
    expect(e.code).toBe(2);
    expect(e.msg).toBe('colour: is an unknown field (value "red")');
    expect(e.details).toContain('weft reads cniVersion, cniVersions, name, type, network');
  });

  test('a misspelled field gets a suggestion', () => {
    const e = errorOf(ADD_ENV, conf({ netwrok: 'blue' }));
    expect(e.code).toBe(2);
    expect(e.details).toContain('did you mean "network"?');
  });

  test('a long value is truncated to about 80 characters', () => {
    const e = errorOf(ADD_ENV, conf({ keyA: ['some more', 'plugin specific', 'configuration', 'x'.repeat(200)] }));
    expect(e.code).toBe(2);
    expect(e.msg).toMatch(/^keyA: is an unknown field \(value \["some more","plugin specific","configuration","x+\.\.\.\)$/);
    expect(e.msg.length).toBeLessThan(130);
  });

  test('reserved cni.dev/ keys are the runtime\'s and are not refused', () => {
    expect(parse(ADD_ENV, conf({ 'cni.dev/anything': 1 })).command).toBe('ADD');
  });
});

describe('labels from args.labels and args.cni.labels', () => {
  test('both are merged; args.cni.labels wins on a clash', () => {
    const req = parse(
      ADD_ENV,
      conf({ args: { labels: { app: 'web', tier: 'x', 'example.com/team': 'net' }, cni: { labels: [{ key: 'tier', value: 'front' }, { key: 'empty', value: '' }] } } }),
    );
    expect(req.labels).toEqual({ app: 'web', tier: 'front', 'example.com/team': 'net', empty: '' });
  });

  test.each<[string, unknown, string, RegExp]>([
    ['args not an object', [1], 'args', /must be an object, got array/],
    ['args.labels not an object', { labels: ['a=b'] }, 'args.labels', /must be an object, got array/],
    ['a bad label value', { labels: { app: 'has space' } }, 'args.labels.app', /label value "has space" has an invalid format/],
    ['a label value not a string', { labels: { app: 1 } }, 'args.labels.app', /must be a string, got number/],
    ['a bad label key', { labels: { 'bad key': 'x' } }, 'args.labels["bad key"]', /label key "bad key" has an invalid format/],
    ['args.cni not an object', { cni: 'x' }, 'args.cni', /must be an object, got string/],
    ['args.cni.labels not a list', { cni: { labels: { app: 'web' } } }, 'args.cni.labels', /must be an array, got object/],
    ['an entry not an object', { cni: { labels: ['app=web'] } }, 'args.cni.labels[0]', /must be an object, got string/],
    ['a bad key in the third entry', { cni: { labels: [{ key: 'a', value: 'b' }, { key: 'c', value: 'd' }, { key: '-x', value: 'y' }] } }, 'args.cni.labels[2].key', /label key "-x" has an invalid format/],
    ['a missing value', { cni: { labels: [{ key: 'a' }] } }, 'args.cni.labels[0].value', /must be a string, got undefined/],
    ['a value too long', { cni: { labels: [{ key: 'a', value: 'v'.repeat(64) }] } }, 'args.cni.labels[0].value', /has an invalid format/],
    ['too many labels', { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x'])) }, 'args', /gives 65 labels, weft takes at most 64/],
  ])('%s -> 7 at %s', (_name, args, where, message) => {
    const e = errorOf(ADD_ENV, conf({ args }));
    expect(e.code).toBe(7);
    expect(e.msg.startsWith(`${where}: `)).toBe(true);
    expect(e.msg).toMatch(message);
  });

  test('anything else under args is ignored', () => {
    const req = parse(ADD_ENV, conf({ args: { cni: { portMappings: 'x', labels: [] }, k8s: { pod: 1 }, labels: {} } }));
    expect(req.labels).toEqual({});
  });
});

describe('dns', () => {
  test('is passed on as given', () => {
    const dns = { nameservers: ['10.1.0.1'], domain: 'cluster.local', search: ['ns.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] };
    expect(parse(ADD_ENV, conf({ dns })).dns).toEqual(dns);
  });

  test('an empty dns stays an empty object', () => {
    expect(parse(ADD_ENV, conf({ dns: {} })).dns).toEqual({});
  });

  test.each<[unknown, number, string, RegExp]>([
    [[], 7, 'dns', /must be an object, got array/],
    [{ nameservers: '10.1.0.1' }, 7, 'dns.nameservers', /must be an array/],
    [{ nameservers: ['ns1'] }, 7, 'dns.nameservers[0]', /"ns1" is not an IP address/],
    [{ domain: 'bad domain' }, 7, 'dns.domain', /"bad domain" is not a domain name/],
    [{ domain: 7 }, 7, 'dns.domain', /must be a string/],
    [{ search: ['ok.example', 'no spaces allowed'] }, 7, 'dns.search[1]', /is not a domain name/],
    [{ options: ['ndots: 5'] }, 7, 'dns.options[0]', /is not a resolver option/],
    [{ servers: ['10.1.0.1'] }, 2, 'dns.servers', /is an unknown field \(value \["10.1.0.1"\]\)/],
  ])('%j -> %i at %s', (dns, code, where, message) => {
    const e = errorOf(ADD_ENV, conf({ dns }));
    expect(e.code).toBe(code);
    expect(e.msg.startsWith(`${where}: `)).toBe(true);
    expect(e.msg).toMatch(message);
  });
});

describe('prevResult', () => {
  const prev10 = {
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'cni0', mac: '00:11:22:33:44:55' },
      { name: 'veth3243', mac: '55:44:33:22:11:11' },
      { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' },
    ],
    ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 2 }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.1.0.1'] },
  };

  test('a 1.0.0 prevResult is kept as is', () => {
    expect(parse(envFor('CHECK'), conf({ prevResult: prev10 })).prevResult).toEqual(prev10);
  });

  test('a 0.4.0 prevResult loses ips[].version (normalised to the 1.x shape)', () => {
    const prev04 = { ...prev10, cniVersion: '0.4.0', ips: [{ version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 2 }] };
    const req = parse(envFor('CHECK'), conf({ prevResult: prev04 }, '0.4.0'));
    expect(req.prevResult).toEqual({ ...prev10, cniVersion: '0.4.0' });
  });

  test('the 1.1.0 interface and route fields are kept; unknown keys are dropped', () => {
    const prev11 = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450, sandbox: '/run/netns/c1', socketPath: '/run/vhost.sock', pciID: '0000:04:00.5', extra: 1 }],
      ips: [{ address: 'fd00::5/64', interface: 0 }],
      routes: [{ dst: '10.2.0.0/16', gw: '10.1.0.254', mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 0 }],
      somethingElse: true,
    };
    const req = parse(envFor('DEL'), conf({ prevResult: prev11 }, '1.1.0'));
    const { somethingElse: _, ...rest } = prev11;
    expect(req.prevResult).toEqual({ ...rest, interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450, sandbox: '/run/netns/c1', socketPath: '/run/vhost.sock', pciID: '0000:04:00.5' }] });
  });

  test('the request\'s cniVersion names the normalised result', () => {
    expect(parse(envFor('DEL'), conf({ prevResult: { ips: [] } }, '1.1.0')).prevResult).toEqual({ cniVersion: '1.1.0', ips: [] });
  });

  test.each<[string, unknown, number, string, RegExp]>([
    ['not an object', 'x', 6, 'prevResult', /must be an object, got string/],
    ['interfaces not a list', { interfaces: {} }, 6, 'prevResult.interfaces', /must be an array, got object/],
    ['an interface without name', { interfaces: [{ mac: '02:00:00:00:00:01' }] }, 6, 'prevResult.interfaces[0].name', /is missing/],
    ['an interface mtu not a number', { interfaces: [{ name: 'eth0', mtu: '1500' }] }, 6, 'prevResult.interfaces[0].mtu', /must be an integer >= 0/],
    ['an ips entry without address', { ips: [{ gateway: '10.1.0.1' }] }, 6, 'prevResult.ips[0].address', /is missing/],
    ['an address without prefix length', { ips: [{ address: '10.1.0.5' }] }, 7, 'prevResult.ips[0].address', /"10.1.0.5" is not an address with a prefix length/],
    ['a bad gateway', { ips: [{ address: '10.1.0.5/24', gateway: 'router' }] }, 7, 'prevResult.ips[0].gateway', /"router" is not an IP address/],
    ['an interface index out of range', { interfaces: [{ name: 'eth0' }], ips: [{ address: '10.1.0.5/24', interface: 1 }] }, 7, 'prevResult.ips[0].interface', /is 1, but there is 1 interface/],
    ['a negative interface index', { ips: [{ address: '10.1.0.5/24', interface: -1 }] }, 6, 'prevResult.ips[0].interface', /must be an integer >= 0/],
    ['a bad ips version', { ips: [{ version: 4, address: '10.1.0.5/24' }] }, 6, 'prevResult.ips[0].version', /must be "4" or "6"/],
    ['a route without dst', { routes: [{ gw: '10.1.0.1' }] }, 6, 'prevResult.routes[0].dst', /is missing/],
    ['a route with a bad dst', { routes: [{ dst: 'default' }] }, 7, 'prevResult.routes[0].dst', /"default" is not a destination prefix/],
    ['a route with a bad gw', { routes: [{ dst: '0.0.0.0/0', gw: '10.1.0' }] }, 7, 'prevResult.routes[0].gw', /is not an IP address/],
    ['a route table not a number', { routes: [{ dst: '0.0.0.0/0', table: 'main' }] }, 6, 'prevResult.routes[0].table', /must be an integer >= 0/],
    ['dns nameservers not a list', { dns: { nameservers: '10.1.0.1' } }, 6, 'prevResult.dns.nameservers', /must be an array/],
  ])('%s -> %i at %s', (_name, prevResult, code, where, message) => {
    const e = errorOf(envFor('CHECK'), conf({ prevResult }));
    expect(e.code).toBe(code);
    expect(e.msg.startsWith(`${where}: `)).toBe(true);
    expect(e.msg).toMatch(message);
  });

  test('parseCniResult checks a result on its own', () => {
    expect(parseCniResult(prev10, '1.0.0')).toEqual(prev10);
    expect(() => parseCniResult({ ips: [{ address: 'x' }] }, '1.0.0', 'cached')).toThrow(/cached\.ips\[0\]\.address/);
  });
});

describe('GC: cni.dev/valid-attachments', () => {
  test('entries weft could never have attached are skipped, not fatal', () => {
    const req = parseCniRequest({ CNI_COMMAND: 'GC' }, JSON.stringify({ cniVersion: '1.1.0', name: 'blue', type: 'weft', 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }, { containerID: 'bad id', ifname: 'eth0' }, { containerID: 'c2', ifname: 'eth/0' }] }));
    expect(req.validAttachments).toEqual([{ containerId: 'c1', ifname: 'eth0' }]);
  });

  const gc = (attachments: unknown) => conf(attachments === undefined ? {} : { 'cni.dev/valid-attachments': attachments }, '1.1.0');

  test('is read for GC', () => {
    const req = parse({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, gc([{ containerID: 'c1', ifname: 'eth0' }, { containerID: 'c2', ifname: 'net1' }]));
    expect(req.validAttachments).toEqual([
      { containerId: 'c1', ifname: 'eth0' },
      { containerId: 'c2', ifname: 'net1' },
    ]);
  });

  test('null (libcni\'s empty list) is an empty list', () => {
    expect(parse({ CNI_COMMAND: 'GC' }, gc(null)).validAttachments).toEqual([]);
  });

  test('missing -> 7: weft will not guess that nothing is in use', () => {
    const e = errorOf({ CNI_COMMAND: 'GC' }, gc(undefined));
    expect(e.code).toBe(7);
    expect(e.msg).toMatch(/^cni\.dev\/valid-attachments: is missing/);
  });

  test.each<[unknown, string, RegExp]>([
    [{}, 'cni.dev/valid-attachments', /must be an array, got object/],
    [['c1'], 'cni.dev/valid-attachments[0]', /must be an object, got string/],
    [[{ ifname: 'eth0' }], 'cni.dev/valid-attachments[0].containerID', /is missing/],
    [[{ containerID: 'c1' }], 'cni.dev/valid-attachments[0].ifname', /is missing/],
    [[{ containerID: 'c1', ifname: 7 }], 'cni.dev/valid-attachments[0].ifname', /must be a string/],
  ])('%j -> 7 at %s', (attachments, where, message) => {
    const e = errorOf({ CNI_COMMAND: 'GC' }, gc(attachments));
    expect(e.code).toBe(7);
    expect(e.msg.startsWith(`${where}: `)).toBe(true);
    expect(e.msg).toMatch(message);
  });

  test('is not part of other commands\' requests', () => {
    expect(parse(ADD_ENV, gc([{ containerID: 'c1', ifname: 'eth0' }])).validAttachments).toBeUndefined();
  });
});

describe('STATUS', () => {
  test('reads the configuration for the network', () => {
    expect(parse({ CNI_COMMAND: 'STATUS' }, conf({ network: 'blue' }, '1.1.0'))).toEqual({
      command: 'STATUS',
      cniVersion: '1.1.0',
      configName: 'blue',
      network: 'blue',
      labels: {},
    });
  });

  test('checks the configuration as ADD does', () => {
    expect(errorOf({ CNI_COMMAND: 'STATUS' }, conf({ ipam: {} }, '1.1.0')).code).toBe(2);
  });
});

describe('VERSION', () => {
  test.each<[string, Partial<CniRequest>]>([
    ['{"cniVersion":"1.0.0"}', { cniVersion: '1.0.0', inputVersion: '1.0.0' }],
    ['{"cniVersion":"0.3.1"}', { cniVersion: '1.1.0', inputVersion: '0.3.1' }],
    ['{"cniVersion":"latest"}', { cniVersion: '1.1.0' }],
    ['{}', { cniVersion: '1.1.0' }],
    ['', { cniVersion: '1.1.0' }],
    ['not json', { cniVersion: '1.1.0' }],
    ['[]', { cniVersion: '1.1.0' }],
  ])('answers whatever stdin holds: %p', (stdin, expected) => {
    const req = parseCniRequest({ CNI_COMMAND: 'VERSION' }, stdin);
    expect(req).toEqual({ command: 'VERSION', configName: '', network: '', labels: {}, ...expected });
  });
});

test('the spec\'s CHECK example, with weft as the plugin, parses to the expected request', () => {
  const stdin = {
    cniVersion: '1.1.0',
    name: 'dbnet',
    type: 'weft',
    network: 'db',
    dns: { nameservers: ['10.1.0.1'] },
    runtimeConfig: { mac: '00:11:22:33:44:66' },
    prevResult: {
      ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 2 }],
      routes: [{ dst: '0.0.0.0/0' }],
      interfaces: [
        { name: 'cni0', mac: '00:11:22:33:44:55' },
        { name: 'veth3243', mac: '55:44:33:22:11:11' },
        { name: 'eth0', mac: '00:11:22:33:44:66', sandbox: '/var/run/netns/blue' },
      ],
      dns: { nameservers: ['10.1.0.1'] },
    },
  };
  const req = parse({ CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'ctr-1', CNI_NETNS: '/var/run/netns/blue', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' }, stdin);
  expect(req).toEqual({
    command: 'CHECK',
    cniVersion: '1.1.0',
    configName: 'dbnet',
    network: 'db',
    containerId: 'ctr-1',
    netns: '/var/run/netns/blue',
    ifname: 'eth0',
    mac: '00:11:22:33:44:66',
    labels: {},
    dns: { nameservers: ['10.1.0.1'] },
    prevResult: { cniVersion: '1.1.0', ...stdin.prevResult },
  });
});
