import { EventLog } from '../../../../controller/events/event-log.js';
import type { EventInput } from '../../../../model/events.js';

const ev = (name: string, reason: string, message = reason, time = 0): EventInput => ({ type: 'Normal', reason, message, involved: { kind: 'Network', name }, time });

describe('EventLog', () => {
  test('lists one resource\'s events oldest first, with kubectl fields', () => {
    const log = new EventLog();
    log.record(ev('blue', 'Created', 'network created', 1000));
    log.record({ ...ev('blue', 'HostsNotReady', 'not ready', 2000), type: 'Warning' });
    log.record(ev('red', 'Created', 'network created', 3000));
    expect(log.list({ kind: 'Network', name: 'blue' })).toEqual([
      { time: new Date(1000).toISOString(), firstTime: new Date(1000).toISOString(), type: 'Normal', reason: 'Created', message: 'network created', involved: { kind: 'Network', name: 'blue' }, count: 1 },
      { time: new Date(2000).toISOString(), firstTime: new Date(2000).toISOString(), type: 'Warning', reason: 'HostsNotReady', message: 'not ready', involved: { kind: 'Network', name: 'blue' }, count: 1 },
    ]);
  });

  test('a repeated event counts up and moves to the end instead of being stored twice', () => {
    const log = new EventLog();
    log.record(ev('h', 'NotReady', 'x', 1000));
    log.record(ev('h', 'Ready', 'y', 2000));
    log.record(ev('h', 'NotReady', 'x', 3000));
    const list = log.list({ kind: 'Network', name: 'h' });
    expect(list.map((e) => [e.reason, e.count])).toEqual([
      ['Ready', 1],
      ['NotReady', 2],
    ]);
    expect(list[1]).toMatchObject({ firstTime: new Date(1000).toISOString(), time: new Date(3000).toISOString() });
    expect(log.size()).toBe(2);
  });

  test('keeps the newest per resource within the per-resource bound', () => {
    const log = new EventLog(3, 100);
    for (let i = 0; i < 10; i++) log.record(ev('a', `R${i}`));
    expect(log.list({ kind: 'Network', name: 'a' }).map((e) => e.reason)).toEqual(['R7', 'R8', 'R9']);
    expect(log.size()).toBe(3);
  });

  test('evicts the oldest overall beyond the total bound', () => {
    const log = new EventLog(10, 4);
    log.record(ev('a', 'A1'));
    log.record(ev('b', 'B1'));
    log.record(ev('a', 'A2'));
    log.record(ev('b', 'B2'));
    log.record(ev('c', 'C1'));
    log.record(ev('c', 'C2'));
    expect(log.size()).toBe(4);
    expect(log.list().map((e) => e.reason)).toEqual(['A2', 'B2', 'C1', 'C2']);
  });

  test('memory stays bounded under endless distinct events', () => {
    const log = new EventLog(2, 50);
    for (let i = 0; i < 20_000; i++) log.record(ev(`r${i}`, 'Attached'));
    expect(log.size()).toBe(50);
    // the insertion order index is compacted too, not only the events
    expect((log as unknown as { order: unknown[] }).order.length).toBeLessThanOrEqual(3 * 50);
  });

  test('a refreshed repeat is not evicted as if it were old', () => {
    const log = new EventLog(10, 2);
    log.record(ev('a', 'A'));
    log.record(ev('b', 'B'));
    log.record(ev('a', 'A'));
    log.record(ev('c', 'C'));
    expect(log.list().map((e) => `${e.reason}x${e.count}`)).toEqual(['Ax2', 'Cx1']);
  });

  test('repeats forever stay within bounds (the eviction order is compacted)', () => {
    const log = new EventLog(5, 10);
    for (let i = 0; i < 10_000; i++) log.record(ev('flappy', i % 2 === 0 ? 'Ready' : 'NotReady'));
    expect(log.size()).toBe(2);
    expect(log.list().map((e) => e.count)).toEqual([5000, 5000]);
  });

  test('filters by kind or name alone, and limit keeps the newest', () => {
    const log = new EventLog();
    log.record(ev('a', 'One'));
    log.record({ ...ev('a', 'Two'), involved: { kind: 'Host', name: 'a' } });
    log.record(ev('b', 'Three'));
    expect(log.list({ kind: 'Network' }).map((e) => e.reason)).toEqual(['One', 'Three']);
    expect(log.list({ name: 'a' }).map((e) => e.reason)).toEqual(['One', 'Two']);
    expect(log.list({ limit: 2 }).map((e) => e.reason)).toEqual(['Two', 'Three']);
  });
});
