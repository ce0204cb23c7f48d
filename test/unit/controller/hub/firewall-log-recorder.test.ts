import { EventLog } from '../../../../controller/events/event-log.js';
import { parseAgentMessage } from '../../../../controller/hub/agent-message.js';
import { FIREWALL_LOG_EVENTS_PER_SECOND, FirewallLogRecorder, firewallLogMessage } from '../../../../controller/hub/firewall-log-recorder.js';
import type { FirewallLogEntry } from '../../../../model/agent-protocol.js';

const entry = (over: Partial<FirewallLogEntry> = {}): FirewallLogEntry => ({
  time: '2024-05-01T10:00:00.000Z', policy: 'db', direction: 'egress', rule: 'allow-dns', action: 'allow', protocol: 'udp', src: '10.0.0.5', dst: '10.0.0.2', sport: 40000, dport: 53, ...over,
});

describe('firewallLog -> events', () => {
  test('each entry is a Normal "Logged" event on its FirewallPolicy, naming direction, rule, flow and host', () => {
    const events = new EventLog();
    const rec = new FirewallLogRecorder(events, () => true);
    expect(rec.record('h1', [entry(), entry({ direction: 'ingress', rule: '2', protocol: 'icmp', sport: undefined, dport: undefined })], 1000)).toEqual({ recorded: 2, dropped: 0, ignored: 0 });
    const list = events.list({ kind: 'FirewallPolicy', name: 'db' });
    expect(list.map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Normal', 'Logged', 'egress rule allow-dns: udp 10.0.0.5:40000 -> 10.0.0.2:53 (h1)'],
      ['Normal', 'Logged', 'ingress rule 2: icmp 10.0.0.5 -> 10.0.0.2 (h1)'],
    ]);
    expect(list[0]?.time).toBe('2024-05-01T10:00:00.000Z');
  });

  test('the message format', () => {
    expect(firewallLogMessage('h9', entry({ sport: 1, dport: 2, protocol: 'tcp' }))).toBe('egress rule allow-dns: tcp 10.0.0.5:1 -> 10.0.0.2:2 (h9)');
  });

  test(`a flood is cut at ${FIREWALL_LOG_EVENTS_PER_SECOND} a second per host, reported once on the Host, and refills with time`, () => {
    const events = new EventLog(1000, 10_000);
    const rec = new FirewallLogRecorder(events, () => true);
    const burst = (from: number) => Array.from({ length: 500 }, (_, i) => entry({ sport: from + i }));
    const flood = burst(10_000);
    expect(rec.record('h1', flood, 0)).toEqual({ recorded: 20, dropped: 480, ignored: 0 });
    // Another host has its own budget.
    expect(rec.record('h2', flood.slice(0, 5), 0).recorded).toBe(5);
    // Half a second later: half the budget back.
    expect(rec.record('h1', burst(20_000), 500)).toMatchObject({ recorded: 10, dropped: 490 });
    expect(events.list({ kind: 'FirewallPolicy', name: 'db' })).toHaveLength(35);
    const warnings = events.list({ kind: 'Host', name: 'h1' });
    // The second batch's drops are reported with the next report, not immediately.
    expect(warnings.map((e) => [e.type, e.reason, e.message])).toEqual([['Warning', 'FirewallLogDropped', '480 firewall log entries not recorded: more than 20 a second from this host']]);
    rec.record('h1', burst(30_000).slice(0, 1), 11_000);
    expect(events.list({ kind: 'Host', name: 'h1' }).map((e) => e.message)).toContain('490 firewall log entries not recorded: more than 20 a second from this host');
  });

  test('entries naming no FirewallPolicy, or a perimeter firewall (forward), are ignored; existence is asked once per name', () => {
    const events = new EventLog();
    const asked: string[] = [];
    const rec = new FirewallLogRecorder(events, (n) => (asked.push(n), n === 'db'));
    expect(rec.record('h1', [entry({ policy: 'gone' }), entry({ policy: 'gone' }), entry({ direction: 'forward' }), entry()], 0)).toEqual({ recorded: 1, dropped: 0, ignored: 3 });
    expect(asked).toEqual(['gone', 'db']);
    expect(events.size()).toBe(1);
  });
});

describe('agent message schema: status.firewall and firewallLog', () => {
  const status = (extra: Record<string, unknown>) => JSON.stringify({ type: 'status', appliedRevision: 3, networks: {}, ...extra });

  test('a status with firewall reports and spoof drops is accepted; one without them still is', () => {
    const firewall = { db: { generation: 2, ready: true, endpoints: 1, counters: [{ direction: 'ingress', rule: 'default', packets: 1, bytes: 60 }] } };
    expect(parseAgentMessage(status({ firewall, spoofDrops: { ip: 3, arp: 0 } }))).toMatchObject({ firewall, spoofDrops: { ip: 3, arp: 0 } });
    expect(parseAgentMessage(status({}))).toEqual({ type: 'status', appliedRevision: 3, networks: {} });
  });

  test.each([
    ['a counter with a negative count', { firewall: { db: { generation: 1, ready: true, endpoints: 0, counters: [{ direction: 'ingress', rule: 'x', packets: -1, bytes: 0 }] } } }, '/firewall/db/counters/0/packets'],
    ['a counter of an unknown direction', { firewall: { db: { generation: 1, ready: true, endpoints: 0, counters: [{ direction: 'forward', rule: 'x', packets: 1, bytes: 0 }] } } }, '/firewall/db/counters/0/direction'],
    ['a report without ready', { firewall: { db: { generation: 1, endpoints: 0, counters: [] } } }, '/firewall/db'],
    ['a spoof drop count that is not a number', { spoofDrops: { ip: 'many' } }, '/spoofDrops/ip'],
  ])('a status with %s is refused at the field', (_what, extra, path) => {
    expect(() => parseAgentMessage(status(extra))).toThrow(expect.objectContaining({ code: 'Invalid', details: expect.arrayContaining([expect.objectContaining({ path })]) }));
  });

  test('firewallLog: entries are checked', () => {
    expect(parseAgentMessage(JSON.stringify({ type: 'firewallLog', entries: [entry()] }))).toEqual({ type: 'firewallLog', entries: [entry()] });
    expect(() => parseAgentMessage(JSON.stringify({ type: 'firewallLog', entries: [{ ...entry(), action: 'explode' }] }))).toThrow(
      expect.objectContaining({ details: expect.arrayContaining([expect.objectContaining({ path: '/entries/0/action' })]) }),
    );
    expect(() => parseAgentMessage(JSON.stringify({ type: 'firewallLog', entries: [{ ...entry(), dport: 70000 }] }))).toThrow(expect.objectContaining({ code: 'Invalid' }));
  });
});
