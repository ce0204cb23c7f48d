// Small TCP peers for tests of routing and NAT (the outside itself:
// test-lab.ts addOutside): a server that answers each connection with the
// address it came from (what NAT tests need to see), and a client that
// reads it.
import { spawn, type ChildProcess } from 'node:child_process';

/** A TCP server in a namespace that answers every connection with the address it came from, then closes; exits by itself after 5 minutes. */
export function echoPeer(netnsPath: string, port: number): ChildProcess {
  const code = `require('net').createServer((c)=>{c.on('error',()=>{});c.end(c.remoteAddress)}).listen(${port},'0.0.0.0');setTimeout(()=>process.exit(0),300000)`;
  return spawn('nsenter', [`--net=${netnsPath}`, process.execPath, '-e', code], { stdio: 'ignore' });
}

/** The Node program that connects to ip:port and prints what it reads (exit code not 0: refused, unreachable or 2 s without an answer). */
export function tcpReadArgv(to: string, port: number): string[] {
  const code = `const s=require('net').connect({port:${port},host:'${to}',timeout:2000});let d='';s.on('data',(b)=>d+=b);s.on('end',()=>{process.stdout.write(d);process.exit(0)});s.on('error',()=>process.exit(3));s.on('timeout',()=>process.exit(4))`;
  return [process.execPath, '-e', code];
}
