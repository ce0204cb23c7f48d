import { InvalidArgumentError } from 'commander';
import {
  collectLabels, formatListen, parseContainerName, parseDnsLabel, parseIfname, parseIPv4, parseListen, parseLogLevel, parseMac, parseOutput,
  parseHeartbeatTimeout, parsePositiveSeconds, parseServerUrl, sanitiseHostName,
} from '../../../cli/flags.js';

function rejects(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  expect((caught as Error).message).toMatch(message);
}

describe('flag validation', () => {
  it.each([
    ['127.0.0.1:7400', { host: '127.0.0.1', port: 7400 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['[::1]:7400', { host: '::1', port: 7400 }],
  ])('--listen accepts %s', (text, expected) => {
    expect(parseListen(text)).toEqual(expected);
    expect(formatListen(expected)).toBe(text);
  });

  it.each([
    ['7400', /Write HOST:PORT/],
    ['127.0.0.1', /Write HOST:PORT/],
    ['127.0.0.1:65536', /Port 65536 is out of range: use 0-65535/],
    ['127.0.0.1:-1', /Write HOST:PORT/],
    ['::1:7400', /Write HOST:PORT.*\[::1\]:7400/],
    ['bad_host:80', /"bad_host" is not an IPv4 address or host name/],
  ])('--listen rejects %s', (text, message) => rejects(() => parseListen(text), message));

  it('--ip takes dotted IPv4 only', () => {
    expect(parseIPv4('10.88.0.5')).toBe('10.88.0.5');
    for (const bad of ['10.88.0', '10.88.0.256', 'fd00::1', '010.1.1.1', '']) rejects(() => parseIPv4(bad), /Write an IPv4 address/);
  });

  it('--mac takes a unicast MAC and normalises case', () => {
    expect(parseMac('02:AA:bb:00:00:01')).toBe('02:aa:bb:00:00:01');
    rejects(() => parseMac('02:aa:bb:00:00'), /six hex octets/);
    rejects(() => parseMac('01:00:5e:00:00:01'), /multicast/);
  });

  it('-o takes json, yaml or wide', () => {
    expect(parseOutput('JSON')).toBe('json');
    expect(parseOutput('wide')).toBe('wide');
    rejects(() => parseOutput('xml'), /Use one of: json, yaml, wide/);
  });

  it('--label accumulates k=v pairs, also comma-separated', () => {
    let labels = collectLabels('app=web');
    labels = collectLabels('tier=front,example.com/team=net', labels);
    labels = collectLabels('empty=', labels);
    expect(labels).toEqual({ app: 'web', tier: 'front', 'example.com/team': 'net', empty: '' });
  });

  it.each([
    ['app', /Write KEY=VALUE/],
    ['=web', /Write KEY=VALUE/],
    ['bad key=x', /Label key "bad key"/],
    ['app=-web', /Label value "-web"/],
    [`app=${'x'.repeat(64)}`, /Label value/],
  ])('--label rejects %s', (text, message) => rejects(() => collectLabels(text), message));

  it('names: network is a DNS label, container names and interface names have their own rules', () => {
    expect(parseDnsLabel('--network')('demo-1')).toBe('demo-1');
    rejects(() => parseDnsLabel('--network')('Demo'), /--network must be a DNS label/);
    expect(parseContainerName('web.1_a')).toBe('web.1_a');
    rejects(() => parseContainerName('-web'), /starting with a letter or digit/);
    expect(parseIfname('eth0')).toBe('eth0');
    rejects(() => parseIfname('a-very-long-ifname'), /15 bytes/);
  });

  it('--server must be an http(s) URL; a trailing slash is dropped', () => {
    expect(parseServerUrl('http://10.0.0.1:7400/')).toBe('http://10.0.0.1:7400');
    rejects(() => parseServerUrl('10.0.0.1:7400'), /Use http:\/\/ or https:\/\/|Write a URL/);
    rejects(() => parseServerUrl('ws://x'), /Use http:\/\/ or https:\/\//);
    rejects(() => parseServerUrl('nonsense'), /Write a URL/);
  });

  it('--log-level and --timeout', () => {
    expect(parseLogLevel('DEBUG')).toBe('debug');
    rejects(() => parseLogLevel('verbose'), /Use one of: fatal, error/);
    expect(parsePositiveSeconds('2.5')).toBe(2.5);
    rejects(() => parsePositiveSeconds('0'), /seconds/);
  });

  it.each([
    ['My-Laptop.local', 'my-laptop'],
    ['host_01', 'host-01'],
    ['--', 'localhost'],
    ['x'.repeat(70), 'x'.repeat(63)],
  ])('sanitises host name %s to a DNS label', (raw, label) => {
    expect(sanitiseHostName(raw)).toBe(label);
  });
});

describe('parseHeartbeatTimeout', () => {
  test('accepts twice the agents heartbeat interval or more', () => {
    expect(parseHeartbeatTimeout('10s')).toBe(10_000);
    expect(parseHeartbeatTimeout('1m')).toBe(60_000);
  });
  test('refuses a timeout that would cut healthy agents off, saying the minimum', () => {
    expect(() => parseHeartbeatTimeout('2s')).toThrow(/at least 10s/);
    expect(() => parseHeartbeatTimeout('15')).toThrow(/15s/);
  });
});
