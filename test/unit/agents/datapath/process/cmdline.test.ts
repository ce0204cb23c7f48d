import { cmdlineMatches, parseCmdline } from '../../../../../agents/datapath/process/cmdline.js';

describe('parseCmdline', () => {
  it('splits on NUL and drops the last terminator only', () => {
    expect(parseCmdline(Buffer.from('/bin/sh\0-c\0echo a b\0'))).toEqual(['/bin/sh', '-c', 'echo a b']);
    expect(parseCmdline('/usr/sbin/haproxy\0\0-f\0')).toEqual(['/usr/sbin/haproxy', '', '-f']);
  });

  it('is empty for a kernel thread or a zombie', () => {
    expect(parseCmdline(Buffer.alloc(0))).toEqual([]);
  });

  it('keeps a command line without its final NUL (a process that rewrote it)', () => {
    expect(parseCmdline('nginx: master process')).toEqual(['nginx: master process']);
  });
});

describe('cmdlineMatches', () => {
  const argv = ['/usr/sbin/haproxy', '-W', '-f', '/run/weft/lb1/haproxy.cfg'];

  it('matches exactly the same arguments', () => {
    expect(cmdlineMatches([...argv], argv)).toBe(true);
  });

  it.each([
    ['another program', ['/usr/sbin/dnsmasq', '-W', '-f', '/run/weft/lb1/haproxy.cfg']],
    ['another config', ['/usr/sbin/haproxy', '-W', '-f', '/run/weft/lb2/haproxy.cfg']],
    ['a missing argument', ['/usr/sbin/haproxy', '-W', '-f']],
    ['an extra argument', [...argv, '-d']],
    ['a rewritten title', ['haproxy -W -f /run/weft/lb1/haproxy.cfg']],
    ['nothing (zombie)', []],
  ])('does not match %s', (_what, cmdline) => {
    expect(cmdlineMatches(cmdline, argv)).toBe(false);
  });
});
