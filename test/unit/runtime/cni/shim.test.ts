import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

// The compiled shim, exec'd the way a container runtime does: CNI_* env vars
// in, network config on stdin, JSON on stdout, exit status. WEFT_CNI_SHIM
// points the suite at another build (e.g. one with sanitizers).
const SHIM = process.env.WEFT_CNI_SHIM ?? fileURLToPath(new URL('../../../../dist/bin/weft-cni', import.meta.url));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runShim(env: Record<string, string>, stdin: string | Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(SHIM, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // The shim stops reading after 1 MiB + 1 byte; the rest of a too-large stdin meets EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(stdin);
  });
}

type Reply = (line: string, sock: Socket) => void | Promise<void>;

interface FakeAgent {
  server: Server;
  /** Every request line received, without its newline. */
  lines: string[];
  sockets: Set<Socket>;
}

/** A unix socket server that remembers its connections, so afterEach can end them. */
function listenAgent(path: string, onConnection: (sock: Socket, agent: FakeAgent) => void): Promise<FakeAgent> {
  const agent: FakeAgent = { server: createServer(), lines: [], sockets: new Set() };
  agent.server.on('connection', (sock) => {
    agent.sockets.add(sock);
    sock.on('close', () => agent.sockets.delete(sock));
    sock.on('error', () => undefined);
    onConnection(sock, agent);
  });
  return new Promise((resolve) => agent.server.listen(path, () => resolve(agent)));
}

/** An agent stand-in: newline-delimited JSON, one reply function per test. */
function fakeAgent(path: string, reply: Reply): Promise<FakeAgent> {
  return listenAgent(path, (sock, agent) => {
    let buf = '';
    sock.on('data', (c) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        agent.lines.push(line);
        void reply(line, sock);
      }
    });
  });
}

const answer = (sock: Socket, v: unknown): void => void sock.write(`${JSON.stringify(v)}\n`);
const cniError = (run: Run) => JSON.parse(run.stdout) as { cniVersion: string; code: number; msg: string; details: string };

describe('weft-cni shim', () => {
  let dir: string;
  let sockPath: string;
  let agent: FakeAgent | undefined;

  const config = (over: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'demo', type: 'weft', agentSocket: sockPath, ...over });
  const addEnv = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

  beforeAll(() => {
    if (!existsSync(SHIM)) throw new Error(`the CNI shim is not built (${SHIM} is missing): run \`npm run build\` first`);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-cni-'));
    sockPath = join(dir, 'agent.sock');
  });
  afterEach(async () => {
    if (agent) {
      for (const s of agent.sockets) s.destroy();
      const server = agent.server;
      await new Promise((r) => server.close(r));
    }
    agent = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one JSON line with method cni, only the CNI env vars that are set, and stdin byte for byte', async () => {
    agent = await fakeAgent(sockPath, (_line, sock) => answer(sock, { id: 1, result: { exitCode: 0, output: null } }));
    const stdin = Buffer.from(`${config({ odd: 'quote " backslash \\ tab \t ctl \u0001 del \u007f é 中 😀' })}\n  trailing "junk\\`, 'utf8');
    const env = { ...addEnv, CNI_PATH: '/opt/cni/bin:/a "quoted"\\dir', NOT_CNI: 'x' };
    const run = await runShim(env, stdin);
    expect(run.status).toBe(0);
    expect(agent.lines).toHaveLength(1);
    const req = JSON.parse(agent.lines[0] ?? '');
    expect(req).toEqual({
      id: 1,
      method: 'cni',
      params: {
        env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/a "quoted"\\dir' },
        stdin: stdin.toString('utf8'),
      },
    });
    expect(Buffer.from(req.params.stdin, 'utf8').equals(stdin)).toBe(true);
  });

  it('prints the output verbatim and exits 0', async () => {
    // Deliberately not JSON.stringify's spacing: the shim must not re-serialise.
    const output = '{ "cniVersion": "1.0.0", "interfaces": [{"name":"eth0","sandbox":"/run/netns/c1"}], "ips": [{"address":"10.88.0.5/24","interface":0}], "dns": {} }';
    agent = await fakeAgent(sockPath, (_line, sock) => void sock.write(`{"id":1,"result":{"exitCode":0,"output":${output}}}\n`));
    const run = await runShim(addEnv, config());
    expect(run).toEqual({ status: 0, stdout: `${output}\n`, stderr: '' });
  });

  it('relays exit code 1 with the agent-rendered CNI error', async () => {
    const output = { cniVersion: '1.0.0', code: 7, msg: 'invalid network config', details: '"subnet" is missing' };
    agent = await fakeAgent(sockPath, (_line, sock) => answer(sock, { id: 1, result: { exitCode: 1, output } }));
    const run = await runShim(addEnv, config());
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(`${JSON.stringify(output)}\n`);
  });

  it('prints nothing when the output is null', async () => {
    agent = await fakeAgent(sockPath, (_line, sock) => answer(sock, { id: 1, result: { exitCode: 0, output: null } }));
    const run = await runShim({ ...addEnv, CNI_COMMAND: 'DEL' }, config());
    expect(run).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it.each([
    ['0.4.0', '0.4.0'],
    ['1.1.0', '1.1.0'],
    ['not-a-version', '1.1.0'],
    ['1.0.0"}', '1.1.0'],
    [undefined, '1.1.0'],
  ])('answers VERSION without an agent (config cniVersion %p -> %p)', async (given, echoed) => {
    const run = await runShim({ CNI_COMMAND: 'VERSION' }, JSON.stringify(given === undefined ? {} : { cniVersion: given }));
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`{"cniVersion":"${echoed}","supportedVersions":["0.4.0","1.0.0","1.1.0"]}\n`);
  });

  it('uses the top-level agentSocket, not one nested deeper, and decodes its escapes', async () => {
    agent = await fakeAgent(sockPath, (_line, sock) => answer(sock, { id: 1, result: { exitCode: 0, output: null } }));
    const escaped = JSON.stringify(sockPath).replace(/\//g, '\\/');
    const stdin = `{"cniVersion":"1.0.0","plugins":[{"agentSocket":"/nowhere/a.sock"}],"ipam":{"agentSocket":"/nowhere/b.sock"},"agentSocket":${escaped},"x":{"agentSocket":"/nowhere/c.sock"}}`;
    const run = await runShim(addEnv, stdin);
    expect(run.status).toBe(0);
    expect(agent.lines).toHaveLength(1);
  });

  it('answers code 11 naming the socket and the fix when the socket is missing', async () => {
    const run = await runShim(addEnv, config());
    expect(run.status).toBe(1);
    const err = cniError(run);
    expect(err).toMatchObject({ cniVersion: '1.0.0', code: 11 });
    expect(err.details).toContain(sockPath);
    expect(err.details).toContain('weft agent');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers code 50 for STATUS when the socket is missing', async () => {
    const run = await runShim({ CNI_COMMAND: 'STATUS' }, config());
    expect(run.status).toBe(1);
    expect(cniError(run)).toMatchObject({ code: 50, details: expect.stringContaining(sockPath) });
  });

  it('answers code 7 when agentSocket does not fit a unix socket address', async () => {
    const run = await runShim(addEnv, config({ agentSocket: `/${'a'.repeat(200)}` }));
    expect(run.status).toBe(1);
    expect(cniError(run)).toMatchObject({ code: 7, details: expect.stringContaining('agentSocket') });
  });

  it('answers code 11 when the agent closes the connection without answering', async () => {
    agent = await fakeAgent(sockPath, (_line, sock) => void sock.destroy());
    const run = await runShim(addEnv, config());
    expect(run.status).toBe(1);
    expect(cniError(run)).toMatchObject({ code: 11, details: expect.stringContaining(sockPath) });
  });

  it('answers code 11 when the agent closes after half an answer', async () => {
    agent = await fakeAgent(sockPath, (_line, sock) => void sock.end('{"id":1,"result":{"exitCode":0,'));
    const run = await runShim(addEnv, config());
    expect(cniError(run)).toMatchObject({ code: 11 });
  });

  it('answers code 11 when the agent never answers within timeoutSeconds', async () => {
    agent = await fakeAgent(sockPath, () => undefined);
    const run = await runShim(addEnv, config({ timeoutSeconds: 1 }));
    expect(run.status).toBe(1);
    expect(cniError(run)).toMatchObject({ code: 11, details: expect.stringContaining(sockPath) });
  });

  it('answers code 100 with the message of an error response as details', async () => {
    const message = 'params/env must be "object"\nline two \u0002 é';
    agent = await fakeAgent(sockPath, (_line, sock) => answer(sock, { id: 1, error: { code: 'Invalid', message, retriable: false } }));
    const run = await runShim(addEnv, config());
    expect(run.status).toBe(1);
    expect(cniError(run)).toEqual({ cniVersion: '1.0.0', code: 100, msg: 'weft agent refused the request', details: message });
  });

  it('reads the refusal of a request the agent cut off mid-way', async () => {
    // Like the agent's RPC server with a line over its limit: answer, then close while the shim is still writing.
    const refusal = `${JSON.stringify({ id: null, error: { code: 'TooLarge', message: 'request line exceeds 4194304 bytes' } })}\n`;
    agent = await listenAgent(sockPath, (sock) => sock.once('data', () => sock.end(refusal, () => sock.destroy())));
    // Raw control bytes escape to six each: a 1 MB config becomes a 6 MB line.
    const run = await runShim(addEnv, `${config()}${'\u0001'.repeat(1000 * 1000)}`);
    expect(cniError(run)).toMatchObject({ code: 100, details: 'request line exceeds 4194304 bytes' });
  });

  it('answers code 5 when stdin exceeds 1 MiB, with the config cniVersion', async () => {
    const run = await runShim(addEnv, config({ pad: 'x'.repeat(1024 * 1024) }));
    expect(run.status).toBe(1);
    expect(cniError(run)).toMatchObject({ cniVersion: '1.0.0', code: 5 });
  });

  it('accepts an answer split across many small writes', async () => {
    const output = { cniVersion: '1.0.0', ips: [{ address: '10.88.0.5/24' }], note: 'é😀' };
    agent = await fakeAgent(sockPath, async (_line, sock) => {
      const bytes = Buffer.from(`${JSON.stringify({ id: 1, result: { exitCode: 0, output } })}\n`);
      for (let i = 0; i < bytes.length; i += 3) {
        sock.write(bytes.subarray(i, i + 3));
        await sleep(1);
      }
    });
    const run = await runShim(addEnv, config());
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(output);
  });

  it('relays a large output intact', async () => {
    const output = { cniVersion: '1.0.0', routes: Array.from({ length: 4000 }, (_, i) => ({ dst: `10.${i >> 8}.${i & 255}.0/24`, gw: '10.88.0.1', note: 'x'.repeat(8) })) };
    const line = `${JSON.stringify({ id: 1, result: { exitCode: 0, output } })}\n`;
    expect(line.length).toBeGreaterThan(200 * 1000);
    agent = await fakeAgent(sockPath, (_line, sock) => void sock.write(line));
    const run = await runShim(addEnv, config());
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${JSON.stringify(output)}\n`);
  });
});
