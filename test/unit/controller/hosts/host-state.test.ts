import { hostState, type HostStateInput } from '../../../../controller/hosts/host-state.js';
import type { LiveHost } from '../../../../controller/hosts/live-hosts.js';

const base: HostStateInput = { live: undefined, persistedLastSeen: undefined, now: 100_000, heartbeatTimeoutMs: 15_000, graceMs: 60_000, startedAt: 90_000 };
const live = (over: Partial<LiveHost>): LiveHost => ({ connected: true, lastSeen: 99_000, lastHeartbeat: 99_000, networks: {}, ...over });

describe('hostState', () => {
  test('connected and heard from recently: Ready', () => {
    expect(hostState({ ...base, live: live({}) })).toBe('Ready');
  });
  test('connected but silent past the timeout: NotReady', () => {
    expect(hostState({ ...base, live: live({ lastSeen: 80_000 }) })).toBe('NotReady');
  });
  test('disconnected within the grace period: NotReady', () => {
    expect(hostState({ ...base, live: live({ connected: false, disconnectedAt: 95_000 }) })).toBe('NotReady');
  });
  test('disconnected past the grace period: Gone', () => {
    expect(hostState({ ...base, now: 200_000, live: live({ connected: false, disconnectedAt: 95_000 }) })).toBe('Gone');
  });
  test('after a controller restart the grace period starts no earlier than the start', () => {
    expect(hostState({ ...base, persistedLastSeen: 1_000 })).toBe('NotReady');
    expect(hostState({ ...base, now: 151_000, persistedLastSeen: 1_000 })).toBe('Gone');
  });
});
