import { formatPidfile, idOfPidfile, parsePidfile, pidfileName, pidfilePath } from '../../../../../agents/datapath/process/pidfile.js';

describe('pidfile names', () => {
  it('percent-encode the id, so ids with "/" stay one file in the state dir', () => {
    expect(pidfileName('lb1/haproxy')).toBe('lb1%2Fhaproxy.pid');
    expect(pidfilePath('/run/weft/agent-h1/proc', 'lb1/haproxy')).toBe('/run/weft/agent-h1/proc/lb1%2Fhaproxy.pid');
    expect(pidfileName('..')).toBe('...pid');
  });

  it.each(['lb1/haproxy', 'a', '..', 'wv-1/dns masq', 'ünï/cødé'])('idOfPidfile reverses pidfileName for %j', (id) => {
    expect(idOfPidfile(pidfileName(id))).toBe(id);
  });

  it.each(['x.log', '.pid', 'a.pid.tmp-12', 'a%2.pid', 'a/b.pid', 'lb1%2fhaproxy.pid'])('idOfPidfile ignores %j (not a name it writes)', (name) => {
    expect(idOfPidfile(name)).toBeUndefined();
  });
});

describe('formatPidfile / parsePidfile', () => {
  it('puts the pid alone on the first line and reads the whole record back', () => {
    const record = { pid: 4321, argv: ['/usr/sbin/haproxy', '-f', '/x'], netns: '/run/netns/x', netnsId: '4:4026532', configHash: 'abc' };
    const text = formatPidfile(record);
    expect(text.split('\n')[0]).toBe('4321');
    expect(parsePidfile(text)).toEqual(record);
  });

  it('reads a bare pid, with or without a newline', () => {
    expect(parsePidfile('123\n')).toEqual({ pid: 123 });
    expect(parsePidfile(' 123 ')).toEqual({ pid: 123 });
  });

  it('keeps the pid when the record line is damaged or of the wrong shape', () => {
    expect(parsePidfile('123\n{"argv": [')).toEqual({ pid: 123 });
    expect(parsePidfile('123\n["a"]\n')).toEqual({ pid: 123 });
    expect(parsePidfile('123\n{"argv":"x","netns":1,"configHash":2}\n')).toEqual({ pid: 123 });
    expect(parsePidfile('123\n{"argv":[1,"a"]}\n')).toEqual({ pid: 123 });
  });

  it.each(['', '\n', 'abc', '0', '-1', '12a', '1.5', '4194305', '99999999', '0123'])('has no pid in %j', (text) => {
    expect(parsePidfile(text)).toBeUndefined();
  });
});
