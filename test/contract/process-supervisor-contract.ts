// The process supervisor port's contract, written once and run against both
// implementations: FakeProcessSupervisor over in-memory processes
// (test/unit/agents/datapath/fake-process-supervisor.test.ts) and
// LinuxProcessSupervisor over real processes in throwaway namespaces
// (test/kernel/datapath/process-supervisor.test.ts).
//
// Nothing here measures durations: backoff growth is read from the delays
// the supervisor reports, and waits are polls with a generous deadline.
import { isNotFound } from '../../agents/datapath/errors.js';
import type { ProcessSpec, ProcessStatus, ProcessSupervisor } from '../../agents/datapath/process-supervisor.js';
import type { SupervisorOptions } from '../../agents/datapath/process/supervisor.js';
import { caught, eventually as eventuallyWithin } from './datapath-contract.js';

export type SupervisorTimings = Omit<SupervisorOptions, 'stateDir'>;

/** A long-running program that counts the SIGHUPs it handles. */
export interface TestProgram {
  argv: string[];
  /** Resolves once `pid` handles SIGHUP (before that, a real program would die of it). */
  ready(pid: number): Promise<void>;
  /** SIGHUPs handled so far by every process started with this argv. */
  reloadsSeen(): Promise<number>;
}

export interface ProcessWorld {
  /** The namespace the tests run processes in, and a second one. */
  netns: string;
  otherNetns: string;
  /** A namespace path with nothing there. */
  absentNetns: string;
  /** A new supervisor over the world's one state dir: a second one plays the restarted agent. */
  supervisor(timings: SupervisorTimings): ProcessSupervisor;
  /** A distinct program per tag; with ignoreSigterm it survives SIGTERM. */
  program(tag: string, options?: { ignoreSigterm?: boolean }): TestProgram;
  /** An absolute path with no executable there. */
  missingExecutable(): string;
  /** Start a program no supervisor knows; tearDown ends it. */
  startForeign(): Promise<number>;
  isAlive(pid: number): boolean;
  /** `kill -9 pid` from outside the supervisor. */
  kill9(pid: number): void;
  /** Live processes running exactly argv in any namespace (helpers they fork not counted). */
  processesRunning(argv: string[]): Promise<number[]>;
  readPidfile(id: string): string | undefined;
  writePidfile(id: string, text: string): void;
}

export interface ProcessContractSetup {
  /** A fresh world before each test. */
  setUp(): Promise<ProcessWorld>;
  /** End every process the test started and remove what setUp made; runs after every test, also a failed one. */
  tearDown(world: ProcessWorld): Promise<void>;
}

/** Fast enough for tests; resetAfterMs long enough that no test resets a streak by accident. */
const FAST: SupervisorTimings = { backoff: { initialMs: 20, maxMs: 2000, resetAfterMs: 60_000 }, pollMs: 20, stopGraceMs: 2000 };
const DEADLINE_MS = 8000;

const eventually = (check: () => void | Promise<void>, timeoutMs = DEADLINE_MS): Promise<void> => eventuallyWithin(check, timeoutMs);

/** Poll `s.state(id)` until `ok` holds; returns that status. */
async function until(s: ProcessSupervisor, id: string, ok: (st: ProcessStatus) => boolean, what: string): Promise<ProcessStatus> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const st = s.state(id);
    if (st && ok(st)) return st;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${id}: ${what}; last status ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const firstLine = (text: string | undefined): string | undefined => text?.split('\n')[0];

export function runProcessSupervisorContract(name: string, setup: ProcessContractSetup): void {
  describe(`${name}: process supervisor contract`, () => {
    let w: ProcessWorld;
    let made: ProcessSupervisor[] = [];

    beforeEach(async () => {
      w = await setup.setUp();
    });

    afterEach(async () => {
      try {
        // Closing kills nothing; it only stops restarts racing the cleanup.
        for (const s of made) await s.close();
      } finally {
        made = [];
        await setup.tearDown(w);
      }
    });

    function sup(timings: SupervisorTimings = FAST): ProcessSupervisor {
      const s = w.supervisor(timings);
      made.push(s);
      return s;
    }

    function spec(id: string, program: TestProgram, extra: Partial<ProcessSpec> = {}): ProcessSpec {
      return { id, netns: w.netns, argv: program.argv, ...extra };
    }

    describe('start', () => {
      it('ensure starts the program: running, not adopted, pid alive and named by the pidfile', async () => {
        const s = sup();
        const st = await s.ensure(spec('lb1/haproxy', w.program('a')));
        expect(st).toMatchObject({ id: 'lb1/haproxy', state: 'running', adopted: false, restarts: 0, reloads: 0 });
        expect(st.pid).toEqual(expect.any(Number));
        expect(w.isAlive(st.pid!)).toBe(true);
        expect(firstLine(w.readPidfile('lb1/haproxy'))).toBe(String(st.pid));
        expect(s.state('lb1/haproxy')).toEqual(st);
        expect(s.list()).toEqual([st]);
      });

      it('ensure twice, one after the other or both at once, leaves one process', async () => {
        const s = sup();
        const program = w.program('a');
        const first = await s.ensure(spec('a', program));
        const again = await s.ensure(spec('a', program));
        expect(again.pid).toBe(first.pid);
        const both = await Promise.all([s.ensure(spec('b', program)), s.ensure(spec('b', program))]);
        expect(both[1].pid).toBe(both[0].pid);
        expect((await w.processesRunning(program.argv)).sort()).toEqual([first.pid, both[0].pid].sort());
      });

      it('a missing executable: ensure rejects with isNotFound, the state says failed, no pidfile', async () => {
        const s = sup();
        const err = await caught(s.ensure({ id: 'a', netns: w.netns, argv: [w.missingExecutable(), '-f', 'x'] }));
        expect(isNotFound(err)).toBe(true);
        expect(s.state('a')).toMatchObject({ state: 'failed', message: expect.stringContaining('ENOENT') });
        expect(s.state('a')?.pid).toBeUndefined();
        expect(w.readPidfile('a')).toBeUndefined();
        // The next ensure with a program that exists starts it.
        await expect(s.ensure(spec('a', w.program('a')))).resolves.toMatchObject({ state: 'running' });
      });

      it('a namespace that does not exist: ensure rejects with isNotFound', async () => {
        const s = sup();
        const err = await caught(s.ensure({ ...spec('a', w.program('a')), netns: w.absentNetns }));
        expect(isNotFound(err)).toBe(true);
        expect(s.state('a')?.state).toBe('failed');
      });

      it('an invalid spec is refused with EINVAL before anything runs', async () => {
        const s = sup();
        const program = w.program('a');
        await expect(s.ensure({ id: 'a', netns: w.netns, argv: ['sh', '-c', 'true'] })).rejects.toMatchObject({ errno: 'EINVAL' });
        await expect(s.ensure({ id: 'a', netns: w.netns, argv: [] })).rejects.toMatchObject({ errno: 'EINVAL' });
        await expect(s.ensure({ id: '', netns: w.netns, argv: program.argv })).rejects.toMatchObject({ errno: 'EINVAL' });
        await expect(s.ensure({ ...spec('a', program), netns: 'x' })).rejects.toMatchObject({ errno: 'EINVAL' });
        expect(s.list()).toEqual([]);
        expect(await w.processesRunning(program.argv)).toEqual([]);
      });
    });

    describe('adoption after an agent restart', () => {
      it('a second supervisor over the same state dir adopts the running process: same pid, adopted, no second process', async () => {
        const program = w.program('a');
        const first = sup();
        const started = await first.ensure(spec('a', program));
        await first.close();
        expect(w.isAlive(started.pid!)).toBe(true);

        const second = sup();
        const adopted = await second.ensure(spec('a', program));
        expect(adopted).toMatchObject({ pid: started.pid, adopted: true, state: 'running', restarts: 0 });
        expect(await w.processesRunning(program.argv)).toEqual([started.pid]);
      });

      it('a pidfile naming a live process of another program is not adopted, and that process is left alone', async () => {
        const foreign = await w.startForeign();
        w.writePidfile('a', `${foreign}\n`);
        const s = sup();
        const st = await s.ensure(spec('a', w.program('a')));
        expect(st.pid).not.toBe(foreign);
        expect(st.adopted).toBe(false);
        expect(w.isAlive(foreign)).toBe(true);
        expect(firstLine(w.readPidfile('a'))).toBe(String(st.pid));
      });

      it('the same program in another namespace is not adopted', async () => {
        const program = w.program('a');
        const s = sup();
        const elsewhere = await s.ensure({ ...spec('x', program), netns: w.otherNetns });
        // A bare pid: the file alone does not make that process ours.
        w.writePidfile('y', `${elsewhere.pid}\n`);
        const here = await s.ensure(spec('y', program));
        expect(here.pid).not.toBe(elsewhere.pid);
        expect(here.adopted).toBe(false);
        expect(w.isAlive(elsewhere.pid!)).toBe(true);
      });

      it('a pidfile naming a dead pid is replaced by a fresh start', async () => {
        const program = w.program('a');
        const first = sup();
        const started = await first.ensure(spec('a', program));
        await first.close();
        w.kill9(started.pid!);
        await eventually(() => expect(w.isAlive(started.pid!)).toBe(false));
        const st = await sup().ensure(spec('a', program));
        expect(st.pid).not.toBe(started.pid);
        expect(st.adopted).toBe(false);
      });

      it('a process an earlier run started from another argv is ended and the new one started', async () => {
        const first = sup();
        const old = await first.ensure(spec('a', w.program('old')));
        await first.close();
        const program = w.program('new');
        const st = await sup().ensure(spec('a', program));
        expect(st).toMatchObject({ adopted: false, state: 'running' });
        expect(w.isAlive(old.pid!)).toBe(false);
        expect(await w.processesRunning(program.argv)).toEqual([st.pid]);
      });

      it('list() reports a process an earlier run left, and stop() ends it without an ensure', async () => {
        const first = sup();
        const old = await first.ensure(spec('vnf1/dnsmasq', w.program('a')));
        await first.close();
        const second = sup();
        expect(second.list()).toEqual([expect.objectContaining({ id: 'vnf1/dnsmasq', pid: old.pid, state: 'running', adopted: false })]);
        await second.stop('vnf1/dnsmasq');
        expect(w.isAlive(old.pid!)).toBe(false);
        expect(w.readPidfile('vnf1/dnsmasq')).toBeUndefined();
        expect(second.state('vnf1/dnsmasq')?.state).toBe('stopped');
      });
    });

    describe('restart', () => {
      it('a process killed with SIGKILL is restarted, and killed again it waits longer', async () => {
        const s = sup();
        const first = await s.ensure(spec('a', w.program('a')));
        w.kill9(first.pid!);
        const second = await until(s, 'a', (st) => st.restarts === 1 && st.state === 'running', 'first restart');
        expect(second.pid).not.toBe(first.pid);
        expect(w.isAlive(second.pid!)).toBe(true);
        expect(second.lastExit).toMatchObject({ signal: 'SIGKILL', code: null });
        expect(firstLine(w.readPidfile('a'))).toBe(String(second.pid));

        w.kill9(second.pid!);
        const third = await until(s, 'a', (st) => st.restarts === 2 && st.state === 'running', 'second restart');
        expect(third.pid).not.toBe(second.pid);
        expect(third.backoffMs).toHaveLength(2);
        expect(third.backoffMs[1]).toBeGreaterThan(third.backoffMs[0]!);
      });

      it('a dead process waits in backoff with its delay reported, and stop() cancels the restart', async () => {
        const s = sup({ ...FAST, backoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 } });
        const first = await s.ensure(spec('a', w.program('a')));
        w.kill9(first.pid!);
        const waiting = await until(s, 'a', (st) => st.state === 'backoff', 'backoff');
        expect(waiting).toMatchObject({ nextDelayMs: 60_000, restarts: 0, lastExit: { signal: 'SIGKILL' } });
        expect(waiting.pid).toBeUndefined();
        await s.stop('a');
        expect(s.state('a')).toMatchObject({ state: 'stopped' });
        expect(s.state('a')?.nextDelayMs).toBeUndefined();
      });

      it('an adopted process that dies is noticed and restarted', async () => {
        const program = w.program('a');
        const first = sup();
        const started = await first.ensure(spec('a', program));
        await first.close();
        const second = sup();
        await second.ensure(spec('a', program));
        w.kill9(started.pid!);
        const st = await until(second, 'a', (x) => x.restarts === 1 && x.state === 'running', 'restart of the adopted process');
        expect(st.pid).not.toBe(started.pid);
        expect(st.adopted).toBe(false);
        // Not our child: its exit status went to its parent.
        expect(st.lastExit).toMatchObject({ code: null, signal: null });
        expect(await w.processesRunning(program.argv)).toEqual([st.pid]);
      });

      it('the backoff starts over once the process stayed up resetAfterMs', async () => {
        const s = sup({ ...FAST, backoff: { initialMs: 20, maxMs: 2000, resetAfterMs: 200 } });
        const first = await s.ensure(spec('a', w.program('a')));
        w.kill9(first.pid!);
        const second = await until(s, 'a', (st) => st.restarts === 1 && st.state === 'running', 'first restart');
        expect(second.backoffMs).toEqual([20]);
        await new Promise((r) => setTimeout(r, 400));
        w.kill9(second.pid!);
        const third = await until(s, 'a', (st) => st.restarts === 2 && st.state === 'running', 'second restart');
        expect(third.backoffMs).toEqual([20]);
      });
    });

    describe('reload', () => {
      it('a configHash change sends the reload signal and keeps the pid; an unchanged one sends nothing', async () => {
        const program = w.program('a');
        const s = sup();
        const base = spec('a', program, { reload: { signal: 'SIGHUP' }, configHash: 'v1' });
        const first = await s.ensure(base);
        await program.ready(first.pid!);
        const reloaded = await s.ensure({ ...base, configHash: 'v2' });
        expect(reloaded).toMatchObject({ pid: first.pid, reloads: 1, configHash: 'v2', state: 'running' });
        await eventually(async () => expect(await program.reloadsSeen()).toBe(1));
        expect(await s.ensure({ ...base, configHash: 'v2' })).toMatchObject({ pid: first.pid, reloads: 1 });
        expect(w.isAlive(first.pid!)).toBe(true);
        expect(await w.processesRunning(program.argv)).toEqual([first.pid]);
      });

      it('a configHash change without a reload signal restarts the process', async () => {
        const program = w.program('a');
        const s = sup();
        const first = await s.ensure(spec('a', program, { configHash: 'v1' }));
        const second = await s.ensure(spec('a', program, { configHash: 'v2' }));
        expect(second.pid).not.toBe(first.pid);
        expect(second).toMatchObject({ state: 'running', configHash: 'v2', reloads: 0 });
        expect(w.isAlive(first.pid!)).toBe(false);
        expect(await w.processesRunning(program.argv)).toEqual([second.pid]);
      });

      it('a process adopted with an older configHash is reloaded, not restarted; adopted again it is left alone', async () => {
        const program = w.program('a');
        const base = spec('a', program, { reload: { signal: 'SIGHUP' }, configHash: 'v1' });
        const first = sup();
        const started = await first.ensure(base);
        await program.ready(started.pid!);
        await first.close();

        const second = sup();
        const adopted = await second.ensure({ ...base, configHash: 'v2' });
        expect(adopted).toMatchObject({ pid: started.pid, adopted: true, reloads: 1, configHash: 'v2' });
        await eventually(async () => expect(await program.reloadsSeen()).toBe(1));
        await second.close();

        const third = await sup().ensure({ ...base, configHash: 'v2' });
        expect(third).toMatchObject({ pid: started.pid, adopted: true, reloads: 0 });
      });

      it('a changed argv replaces the process', async () => {
        const s = sup();
        const first = await s.ensure(spec('a', w.program('a')));
        const program = w.program('b');
        const second = await s.ensure(spec('a', program));
        expect(second.pid).not.toBe(first.pid);
        expect(w.isAlive(first.pid!)).toBe(false);
        expect(await w.processesRunning(program.argv)).toEqual([second.pid]);
      });
    });

    describe('stop and close', () => {
      it('stop ends the process and removes its pidfile; the state says stopped; stopping again is fine', async () => {
        const s = sup();
        const st = await s.ensure(spec('a', w.program('a')));
        await s.stop('a');
        expect(w.isAlive(st.pid!)).toBe(false);
        expect(w.readPidfile('a')).toBeUndefined();
        expect(s.state('a')).toMatchObject({ id: 'a', state: 'stopped' });
        expect(s.state('a')?.pid).toBeUndefined();
        await expect(s.stop('a')).resolves.toBeUndefined();
        await expect(s.stop('never-started')).resolves.toBeUndefined();
      });

      it('stop kills with SIGKILL, after the grace period, a process that ignores SIGTERM', async () => {
        const program = w.program('stubborn', { ignoreSigterm: true });
        const s = sup({ ...FAST, stopGraceMs: 200 });
        const st = await s.ensure(spec('a', program));
        await program.ready(st.pid!);
        await s.stop('a');
        expect(w.isAlive(st.pid!)).toBe(false);
        expect(s.state('a')?.state).toBe('stopped');
      });

      it('close() leaves the processes running and refuses further work', async () => {
        const s = sup();
        const st = await s.ensure(spec('a', w.program('a')));
        await s.close();
        expect(w.isAlive(st.pid!)).toBe(true);
        await expect(s.ensure(spec('a', w.program('a')))).rejects.toMatchObject({ errno: 'ESHUTDOWN' });
        await expect(s.stop('a')).rejects.toMatchObject({ errno: 'ESHUTDOWN' });
      });
    });
  });
}
