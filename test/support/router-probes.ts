// The lab of the Router VNF's kernel tests: the 3-host lab, networks, an
// "outside" namespace joined to h3 by a veth (TEST-NET-3, 203.0.113.0/24:
// nothing routes further, so no packet leaves the lab) with a server on
// port 7000 there, and what the tests do to traffic: attach a workload, run
// a TCP server that answers with the address a connection came from, and
// read what such a server answers (the address it saw: routed or
// translated). Every process is started by the test and killed by its PID;
// down() removes everything, also after a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vnfNetnsName } from '../../model/vnf-names.js';
import { Lab, labPrefix, type Workload } from '../lab/index.js';
import { addOutside, execIn, netnsDel } from './test-lab.js';

export interface Attached {
  w: Workload;
  ip: string;
  endpoint: string;
}

/** The outside's link to h3: h3's end (`hostIfname`, with `hostIp`/24 when given) and the outside's own address (its eth0, /24). */
export interface OutsideSegment {
  hostIfname: string;
  hostIp?: string;
  outsideIp: string;
}

/** The port the outside's server listens on. */
export const OUTSIDE_PORT = 7000;

export class RouterLab {
  readonly prefix: string;
  readonly lab: Lab;
  /** the router the test makes on h3, and its namespace */
  readonly router: string;
  readonly routerNetns: string;
  /** the outside namespace's name */
  readonly outside: string;
  private readonly dir: string;
  private readonly servers: ChildProcess[] = [];

  constructor(tag: string) {
    this.prefix = labPrefix(tag);
    this.dir = mkdtempSync(join(tmpdir(), this.prefix));
    this.lab = new Lab({ dir: this.dir });
    this.router = `${this.prefix}edge`;
    this.routerNetns = vnfNetnsName('h3', { kind: 'Router', name: this.router });
    this.outside = `${this.prefix}outside`;
  }

  async up(networks: Record<string, string>, segment: OutsideSegment): Promise<void> {
    await this.lab.up({ hosts: 3, prefix: this.prefix, networks: Object.entries(networks).map(([name, subnet]) => ({ name, subnet })) });
    await addOutside(this.lab.host('h3').netns, this.outside, `${segment.outsideIp}/24`, {
      ifname: segment.hostIfname,
      ...(segment.hostIp === undefined ? {} : { cidr: `${segment.hostIp}/24` }),
    });
    this.echo(`/run/netns/${this.outside}`, OUTSIDE_PORT);
  }

  async down(): Promise<void> {
    for (const s of this.servers) if (s.pid !== undefined) s.kill('SIGKILL');
    await this.lab.api('DELETE', `/api/v1/routers/${this.router}`).catch(() => undefined);
    await this.lab.down({ prefix: this.prefix }).catch(() => undefined);
    await netnsDel(this.outside);
    await netnsDel(this.routerNetns);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A workload namespace on `host`, attached to `network`. */
  async attach(host: string, name: string, network: string): Promise<Attached> {
    const w = await this.lab.workload(host, name);
    const r = await this.lab.attach(host, { network, containerId: `${this.prefix}${name}`, netns: w.path });
    return { w, ip: r.ip, endpoint: r.endpoint };
  }

  /** A TCP server in a namespace that answers every connection with the address it came from, then closes; it ends by itself after 5 minutes. */
  echo(netnsPath: string, port: number): void {
    const code = `require('net').createServer((c)=>{c.on('error',()=>{});c.end(c.remoteAddress)}).listen(${port},'0.0.0.0');setTimeout(()=>process.exit(0),300000)`;
    this.servers.push(spawn('nsenter', [`--net=${netnsPath}`, process.execPath, '-e', code], { stdio: 'ignore' }));
  }

  /** What a TCP connection from `from` (a workload, or a namespace by name) to ip:port reads ('' on failure: refused, unreachable or 2 s without an answer). */
  async tcpRead(from: Workload | string, to: string, port: number): Promise<string> {
    const code = `const s=require('net').connect({port:${port},host:'${to}',timeout:2000});let d='';s.on('data',(b)=>d+=b);s.on('end',()=>{process.stdout.write(d);process.exit(0)});s.on('error',()=>process.exit(3));s.on('timeout',()=>process.exit(4))`;
    const r = typeof from === 'string' ? await execIn(from, [process.execPath, '-e', code]) : await this.lab.exec(from, [process.execPath, '-e', code]);
    return r.code === 0 ? r.stdout : '';
  }
}
