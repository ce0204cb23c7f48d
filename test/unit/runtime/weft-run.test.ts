import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { WeftError } from '../../../model/errors.js';
import type { AttachResult, RpcMethod } from '../../../model/agent-rpc.js';
import { exitStatus, weftRun, type WeftRunDeps, type WeftRunOptions } from '../../../runtime/weft-run.js';

/** A fake child that exits when told to. */
class FakeChild extends EventEmitter {
  killed: string[] = [];
  kill(sig: string): boolean {
    this.killed.push(sig);
    return true;
  }
}

interface Harness {
  deps: WeftRunDeps;
  log: string[];
  stderr: string[];
  child: FakeChild;
  signals: Map<string, () => void>;
}

function harness(attach: (params: unknown) => Promise<AttachResult>, over: Partial<WeftRunDeps> = {}): Harness {
  const log: string[] = [];
  const stderr: string[] = [];
  const child = new FakeChild();
  const signals = new Map<string, () => void>();
  const deps: WeftRunDeps = {
    socketExists: () => true,
    call: (async (_socket: string, method: RpcMethod, params: unknown) => {
      log.push(`${method} ${JSON.stringify(params)}`);
      if (method === 'attach') return attach(params);
      return { detached: ['x'] };
    }) as WeftRunDeps['call'],
    createNetns: (name) => {
      log.push(`create ${name}`);
      return `/run/netns/${name}`;
    },
    openNetns: (path) => {
      log.push(`open ${path}`);
      return 7;
    },
    closeFd: (fd) => void log.push(`close ${fd}`),
    deleteNetns: (path) => void log.push(`delete ${path}`),
    spawn: (ns, cmd, args) => {
      log.push(`spawn ${ns} ${cmd} ${args.join(' ')}`);
      return child as unknown as ChildProcess;
    },
    onSignal: (sig, fn) => void signals.set(sig, fn),
    offSignal: (sig) => void signals.delete(sig),
    interactive: false,
    stderr: { write: (s: string) => stderr.push(s) },
    randomId: () => '0a1b2c3d',
    ...over,
  };
  return { deps, log, stderr, child, signals };
}

const result = (over: Partial<AttachResult> = {}): AttachResult => ({
  endpoint: 'wr-0a1b2c3d.eth0', network: 'demo', containerId: 'wr-0a1b2c3d', ifname: 'eth0', hostIfname: 'wv-1', netns: '/run/netns/wr-0a1b2c3d',
  address: '10.88.0.5/24', ip: '10.88.0.5', prefixLength: 24, gateway: '10.88.0.1', mac: '02:00:0a:58:00:05', mtu: 1450, existing: false, ...over,
});

const OPTS: WeftRunOptions = { network: 'demo', command: 'ping', args: ['-c1', '10.88.0.1'], ifname: 'eth0', socket: '/tmp/agent.sock' };

describe('weft run', () => {
  it('attaches a fresh namespace (handed over as a descriptor), runs the command in it, then detaches and deletes it; exits with its status', async () => {
    const h = harness(async () => result());
    const done = weftRun({ ...OPTS, labels: { app: 'x' }, verbose: true }, h.deps);
    await new Promise((r) => setImmediate(r));
    h.child.emit('exit', 3, null);
    await expect(done).resolves.toBe(3);
    expect(h.log).toEqual([
      'create wr-0a1b2c3d',
      'open /run/netns/wr-0a1b2c3d',
      'attach {"network":"demo","containerId":"wr-0a1b2c3d","netns":"/run/netns/wr-0a1b2c3d","ifname":"eth0","labels":{"app":"x"},"netnsFd":7}',
      'close 7',
      'spawn /run/netns/wr-0a1b2c3d ping -c1 10.88.0.1',
      'detach {"containerId":"wr-0a1b2c3d","network":"demo","ifname":"eth0"}',
      'delete /run/netns/wr-0a1b2c3d',
    ]);
    expect(h.stderr.join('')).toMatch(/eth0 10\.88\.0\.5\/24 .* gateway 10\.88\.0\.1/);
    expect(h.signals.size).toBe(0); // handlers removed
  });

  it('-v prints both addresses and gateways on a dual-stack network', async () => {
    const h = harness(async () => result({ address6: 'fd00:88::5/64', ip6: 'fd00:88::5', prefixLength6: 64, gateway6: 'fd00:88::1' }));
    const done = weftRun({ ...OPTS, verbose: true }, h.deps);
    await new Promise((r) => setImmediate(r));
    h.child.emit('exit', 0, null);
    await done;
    expect(h.stderr.join('')).toBe(
      'weft run: eth0 10.88.0.5/24 mac 02:00:0a:58:00:05 mtu 1450 gateway 10.88.0.1 fd00:88::5/64 gateway6 fd00:88::1 on network demo (endpoint wr-0a1b2c3d.eth0, netns /run/netns/wr-0a1b2c3d)\n',
    );
  });

  it('uses --name as the container ID and passes --ip and --mac', async () => {
    const h = harness(async () => result({ containerId: 'web' }));
    const done = weftRun({ ...OPTS, name: 'web', ip: '10.88.0.9', mac: '02:00:00:00:00:09' }, h.deps);
    await new Promise((r) => setImmediate(r));
    h.child.emit('exit', 0, null);
    await done;
    expect(h.log[2]).toBe('attach {"network":"demo","containerId":"web","netns":"/run/netns/wr-0a1b2c3d","ifname":"eth0","ip":"10.88.0.9","mac":"02:00:00:00:00:09","netnsFd":7}');
  });

  it('deletes the namespace and rethrows when attach fails, its descriptor closed; runs nothing', async () => {
    const h = harness(async () => {
      throw new WeftError('NotFound', 'network "demo" does not exist');
    });
    await expect(weftRun(OPTS, h.deps)).rejects.toThrow('network "demo" does not exist');
    expect(h.log.filter((l) => !l.startsWith('attach'))).toEqual(['create wr-0a1b2c3d', 'open /run/netns/wr-0a1b2c3d', 'close 7', 'delete /run/netns/wr-0a1b2c3d']);
  });

  it('deletes the namespace when it cannot be opened; asks the agent nothing', async () => {
    const h = harness(async () => result(), {
      openNetns: () => {
        throw new WeftError('Invalid', 'open netns "/run/netns/wr-0a1b2c3d": EINVAL');
      },
    });
    await expect(weftRun(OPTS, h.deps)).rejects.toThrow('EINVAL');
    expect(h.log).toEqual(['create wr-0a1b2c3d', 'delete /run/netns/wr-0a1b2c3d']);
  });

  it('makes nothing when the agent socket is missing', async () => {
    const h = harness(async () => result(), { socketExists: () => false });
    await expect(weftRun(OPTS, h.deps)).rejects.toThrow('weft agent is not running (no socket at /tmp/agent.sock)');
    expect(h.log).toEqual([]);
  });

  it('does not detach a same-named container that lives in another namespace', async () => {
    const h = harness(async () => result({ existing: true, netns: '/run/netns/other' }));
    await expect(weftRun({ ...OPTS, name: 'web' }, h.deps)).rejects.toThrow(/container "web" is attached already \(in \/run\/netns\/other\): choose another --name/);
    expect(h.log.some((l) => l.startsWith('detach'))).toBe(false);
    expect(h.log).toContain('delete /run/netns/wr-0a1b2c3d');
  });

  it('forwards SIGTERM to the command and still cleans up; a second signal kills it', async () => {
    const h = harness(async () => result());
    const done = weftRun(OPTS, h.deps);
    await new Promise((r) => setImmediate(r));
    h.signals.get('SIGTERM')?.();
    h.signals.get('SIGTERM')?.();
    expect(h.child.killed).toEqual(['SIGTERM', 'SIGKILL']);
    h.child.emit('exit', null, 'SIGKILL');
    await expect(done).resolves.toBe(137);
    expect(h.log.at(-1)).toBe('delete /run/netns/wr-0a1b2c3d');
  });

  it('leaves Ctrl-C to the terminal when interactive (the child gets it from its process group)', async () => {
    const h = harness(async () => result(), { interactive: true });
    const done = weftRun(OPTS, h.deps);
    await new Promise((r) => setImmediate(r));
    h.signals.get('SIGINT')?.();
    expect(h.child.killed).toEqual([]);
    h.child.emit('exit', null, 'SIGINT');
    await expect(done).resolves.toBe(130);
  });

  it('undoes the attach when interrupted before the command started', async () => {
    let release: (r: AttachResult) => void = () => undefined;
    const h = harness(() => new Promise<AttachResult>((r) => (release = r)));
    const done = weftRun(OPTS, h.deps);
    await new Promise((r) => setImmediate(r));
    h.signals.get('SIGINT')?.();
    release(result());
    await expect(done).resolves.toBe(130);
    expect(h.log.some((l) => l.startsWith('spawn'))).toBe(false);
    expect(h.log.slice(-2)).toEqual(['detach {"containerId":"wr-0a1b2c3d","network":"demo","ifname":"eth0"}', 'delete /run/netns/wr-0a1b2c3d']);
  });

  it('reports a command that does not exist with status 127 and cleans up', async () => {
    const h = harness(async () => result());
    const done = weftRun({ ...OPTS, command: 'no-such-cmd' }, h.deps);
    await new Promise((r) => setImmediate(r));
    h.child.emit('error', Object.assign(new Error('spawn no-such-cmd ENOENT'), { code: 'ENOENT' }));
    await expect(done).resolves.toBe(127);
    expect(h.stderr.join('')).toContain('error: cannot run "no-such-cmd": command not found');
    expect(h.log.at(-1)).toBe('delete /run/netns/wr-0a1b2c3d');
  });

  it('warns but still deletes the namespace when detach fails', async () => {
    const h = harness(async () => result());
    h.deps.call = (async (_s: string, method: RpcMethod) => {
      if (method === 'attach') return result();
      throw new WeftError('NotReady', 'agent gone');
    }) as WeftRunDeps['call'];
    const done = weftRun(OPTS, h.deps);
    await new Promise((r) => setImmediate(r));
    h.child.emit('exit', 0, null);
    await expect(done).resolves.toBe(0);
    expect(h.stderr.join('')).toMatch(/warning: detach of "wr-0a1b2c3d" failed: agent gone \(remove it later with: weft delete endpoint wr-0a1b2c3d\.eth0\)/);
    expect(h.log.at(-1)).toBe('delete /run/netns/wr-0a1b2c3d');
  });

  it('exit status follows the shell convention', () => {
    expect(exitStatus(0, null)).toBe(0);
    expect(exitStatus(null, 'SIGTERM')).toBe(143);
  });
});
