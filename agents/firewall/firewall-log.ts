// Turns packets of `log` rules into structured events: each log chain logs to
// the agent's nflog group with its chain name as prefix (wl-<hash>, see
// policy-compiler.ts), which names the policy, direction and rule. Every
// entry is a JSON log line on the agent and, batched once a second, a
// `firewallLog` message to the controller (which records it as an event of
// the policy). Only the first packet of a connection is logged (the log
// chains match ct state new), and the reader caps the rate.
import { errorMessage } from '../../model/errors.js';
import type { FirewallLogEntry } from '../../model/agent-protocol.js';
import type { AgentLogger } from '../agent-config.js';
import type { ControllerUplink } from '../controller-uplink.js';
import type { NflogPacket, PacketLogReader } from '../datapath/packet-log-port.js';
import type { LogChain } from '../datapath/policy-model.js';

const FLUSH_MS = 1_000;
const MAX_BATCH = 200;

export class FirewallLog {
  private batch: FirewallLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly reader: PacketLogReader,
    private readonly logChains: () => ReadonlyMap<string, LogChain> | undefined,
    private readonly uplink: ControllerUplink,
    private readonly log: AgentLogger,
  ) {}

  start(group: number, netns?: string): void {
    try {
      this.reader.start(netns === undefined ? { group } : { group, netns });
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e), group }, 'cannot read firewall log packets; log rules will not produce events');
      return;
    }
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  stop(): void {
    this.reader.stop();
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** The reader's callback. */
  onPacket(p: NflogPacket): void {
    const chain = this.logChains()?.get(p.prefix);
    if (!chain) return; // not one of ours (or the rule went away since)
    const entry: FirewallLogEntry = {
      time: p.time.toISOString(),
      policy: chain.ref.policy,
      direction: chain.ref.direction,
      rule: chain.ref.rule,
      action: chain.action,
      protocol: p.protocol,
      src: p.src,
      dst: p.dst,
    };
    if (p.sport !== undefined) entry.sport = p.sport;
    if (p.dport !== undefined) entry.dport = p.dport;
    this.log.info({ event: 'firewall-log', ...entry }, `${entry.policy} ${entry.direction} rule ${entry.rule}: ${entry.action} ${entry.protocol} ${entry.src} -> ${entry.dst}`);
    if (this.batch.length < MAX_BATCH) this.batch.push(entry);
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const entries = this.batch;
    this.batch = [];
    this.uplink.send({ type: 'firewallLog', entries });
  }
}
