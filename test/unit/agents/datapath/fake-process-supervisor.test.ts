// FakeProcessSupervisor against the process supervisor contract (the same
// suite real processes pass), plus what only the fake has: its world.
import { FakeProcessSupervisor, FakeProcessWorld } from '../../../../agents/datapath/fake-process-supervisor.js';
import type { ProcessStatus } from '../../../../agents/datapath/process-supervisor.js';
import { runProcessSupervisorContract, type ProcessWorld, type TestProgram } from '../../../contract/process-supervisor-contract.js';

const NETNS = '/run/netns/wt-a';
const OTHER_NETNS = '/run/netns/wt-b';
const STATE_DIR = '/run/weft/agent-test/proc';

function fakeWorld(): ProcessWorld {
  const world = new FakeProcessWorld();
  world.addNetns(NETNS);
  world.addNetns(OTHER_NETNS);
  const key = (argv: readonly string[]): string => argv.join('\0');
  return {
    netns: NETNS,
    otherNetns: OTHER_NETNS,
    absentNetns: '/run/netns/wt-absent',
    supervisor: (timings) => new FakeProcessSupervisor(world, { ...timings, stateDir: STATE_DIR }),
    program(tag, options = {}): TestProgram {
      const argv = ['/usr/sbin/weft-test-daemon', '--tag', tag];
      if (options.ignoreSigterm) world.ignoreSigterm(argv);
      return {
        argv,
        ready: async () => {},
        reloadsSeen: async () => world.signalLog.filter((s) => s.signal === 'SIGHUP' && key(s.argv) === key(argv)).length,
      };
    },
    missingExecutable() {
      world.missing.add('/usr/sbin/weft-missing');
      return '/usr/sbin/weft-missing';
    },
    startForeign: async () => world.run(['/usr/bin/sleep', '30'], NETNS).pid,
    isAlive: (pid) => world.isAlive(pid),
    kill9: (pid) => world.kill9(pid),
    processesRunning: async (argv) => [...world.processes.values()].filter((p) => key(p.argv) === key(argv)).map((p) => p.pid),
    readPidfile: (id) => world.files.get(`${STATE_DIR}/${encodeURIComponent(id)}.pid`),
    writePidfile: (id, text) => world.files.set(`${STATE_DIR}/${encodeURIComponent(id)}.pid`, text),
  };
}

runProcessSupervisorContract('FakeProcessSupervisor', {
  setUp: async () => fakeWorld(),
  tearDown: async () => {},
});

describe('FakeProcessSupervisor extras', () => {
  it('processes live in the world: a supervisor built later on it sees them, one on another state dir does not', async () => {
    const world = new FakeProcessWorld();
    world.addNetns(NETNS);
    const spec = { id: 'lb1/haproxy', netns: NETNS, argv: ['/usr/sbin/haproxy', '-f', '/etc/h.cfg'] };
    const first = new FakeProcessSupervisor(world);
    const started = await first.ensure(spec);
    await first.close();
    expect(world.processes.get(started.pid!)).toMatchObject({ argv: spec.argv, netns: NETNS });
    const elsewhere = new FakeProcessSupervisor(world, { stateDir: '/run/weft/other' });
    expect(elsewhere.list()).toEqual([]);
    const again = new FakeProcessSupervisor(world);
    await expect(again.ensure(spec)).resolves.toMatchObject({ pid: started.pid, adopted: true });
    await again.close();
  });

  it('a recreated namespace at the same path is another namespace: its old process is not adopted but ended', async () => {
    const world = new FakeProcessWorld();
    world.addNetns(NETNS);
    const spec = { id: 'a', netns: NETNS, argv: ['/usr/sbin/dnsmasq', '-k'] };
    const first = new FakeProcessSupervisor(world);
    const old = await first.ensure(spec);
    await first.close();
    world.addNetns(NETNS);
    const second = new FakeProcessSupervisor(world);
    const st = await second.ensure(spec);
    expect(st.pid).not.toBe(old.pid);
    expect(world.isAlive(old.pid!)).toBe(false);
    await second.close();
  });

  it('the environment a process was started with is the spec env', async () => {
    const world = new FakeProcessWorld();
    world.addNetns(NETNS);
    const s = new FakeProcessSupervisor(world);
    const st = await s.ensure({ id: 'a', netns: NETNS, argv: ['/usr/sbin/keepalived', '-n'], env: { LANG: 'C' } });
    expect(world.processes.get(st.pid!)?.env).toEqual({ LANG: 'C' });
    await s.close();
  });
});

describe('Supervisor decisions seen through the fake', () => {
  const timings = { backoff: { initialMs: 10, maxMs: 40, resetAfterMs: 60_000 }, pollMs: 10 };

  async function until(s: FakeProcessSupervisor, ok: (st: ProcessStatus) => boolean): Promise<ProcessStatus> {
    for (let i = 0; i < 500; i++) {
      const st = s.state('a');
      if (st && ok(st)) return st;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out; last ${JSON.stringify(s.state('a'))}`);
  }

  it('a restart that cannot start (executable gone) keeps backing off, capped, and succeeds once it is back', async () => {
    const world = new FakeProcessWorld();
    world.addNetns(NETNS);
    const s = new FakeProcessSupervisor(world, timings);
    const argv = ['/usr/sbin/haproxy', '-f', '/x'];
    const first = await s.ensure({ id: 'a', netns: NETNS, argv });
    world.missing.add('/usr/sbin/haproxy');
    world.kill9(first.pid!);
    const failing = await until(s, (st) => st.backoffMs.length >= 4);
    expect(failing).toMatchObject({ state: 'backoff', restarts: 0, message: expect.stringContaining('restart failed') });
    expect(failing.backoffMs.slice(0, 4)).toEqual([10, 20, 40, 40]);
    world.missing.delete('/usr/sbin/haproxy');
    const back = await until(s, (st) => st.state === 'running');
    expect(back.restarts).toBe(1);
    expect(world.isAlive(back.pid!)).toBe(true);
    await s.close();
  });

  it('a restart timer that fires after close() starts nothing', async () => {
    const world = new FakeProcessWorld();
    world.addNetns(NETNS);
    const s = new FakeProcessSupervisor(world, { ...timings, backoff: { initialMs: 30, maxMs: 30, resetAfterMs: 60_000 } });
    const first = await s.ensure({ id: 'a', netns: NETNS, argv: ['/usr/sbin/dnsmasq', '-k'] });
    world.kill9(first.pid!);
    await until(s, (st) => st.state === 'backoff');
    await s.close();
    await new Promise((r) => setTimeout(r, 80));
    expect(world.processes.size).toBe(0);
  });

  it('status reports are copies: changing one changes nothing inside', async () => {
    const world = new FakeProcessWorld();
    world.addNetns(NETNS);
    const s = new FakeProcessSupervisor(world, timings);
    const argv = ['/usr/sbin/keepalived', '-n'];
    const st = await s.ensure({ id: 'a', netns: NETNS, argv });
    st.backoffMs.push(1);
    argv.push('--changed');
    expect(s.state('a')?.backoffMs).toEqual([]);
    await expect(s.ensure({ id: 'a', netns: NETNS, argv: ['/usr/sbin/keepalived', '-n'] })).resolves.toMatchObject({ pid: st.pid });
    await s.close();
  });
});
