import type { AnyResource } from '../../../../model/kinds.js';
import { compileFilter, hostEntry, matchesFilter, parseSelector } from '../../../../controller/console/filters.js';

const objects: AnyResource[] = [
  { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: 'web', labels: { tier: 'web', team: 'a' } }, spec: { subnet: '10.1.0.0/24' }, status: { hosts: { h1: { ready: true, revision: 3 } } } },
  { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: 'db', labels: { tier: 'db' } }, spec: { subnet: '10.2.0.0/24' } },
  { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'web-1', labels: { tier: 'web' } }, spec: { network: 'web', host: 'h1', containerId: 'c1', ifname: 'eth0' } },
  { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'db-1' }, spec: { network: 'db', host: 'h2', containerId: 'c2', ifname: 'eth0' } },
  { apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: 'h1' }, spec: {}, status: { blocks: [{ network: 'web', cidr: '10.1.0.0/26' }] } },
  { apiVersion: 'weft.dev/v1', kind: 'Firewall', metadata: { name: 'edge' }, spec: { host: 'h2', networks: [{ network: 'web' }, { network: 'db' }] } },
  { apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name: 'all' }, spec: {} },
  { apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name: 'db-only' }, spec: { appliesTo: { network: 'db' } } },
];

const matching = (f: Parameters<typeof compileFilter>[0]) =>
  objects.filter((o) => matchesFilter(o, compileFilter(f))).map((o) => `${o.kind}/${o.metadata.name}`);

describe('list filters', () => {
  test.each([
    ['tier=web', [{ key: 'tier', op: '=', value: 'web' }]],
    ['tier==web, team!=b', [{ key: 'tier', op: '=', value: 'web' }, { key: 'team', op: '!=', value: 'b' }]],
    ['weft.dev/applyset', [{ key: 'weft.dev/applyset', op: 'exists' }]],
    ['!team', [{ key: 'team', op: 'absent' }]],
    ['tier=web,', [{ key: 'tier', op: '=', value: 'web' }]],
    ['  ', []],
  ])('parses the selector %j', (text, terms) => {
    expect(parseSelector(text)).toEqual({ ok: true, terms });
  });

  test.each(['tier=we b', '=web', 'a=b=c', '!tier=web', 'tier!'])('refuses the malformed selector %j with a reason', (text) => {
    const r = parseSelector(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(text.split(',')[0]?.trim());
  });

  test.each([
    ['tier=we b', '"tier=we b": a label value is'],
    ['=web', '"=web": a label key is'],
    ['ok=1, !tier=web', '"!tier=web": "!key" takes no value'],
  ])('says which term of %j is wrong and why', (text, start) => {
    const r = parseSelector(text);
    expect(r.ok ? undefined : r.error.slice(0, start.length)).toBe(start);
  });

  test('label selector: equality, inequality (absent counts as different) and existence', () => {
    expect(matching({ selector: 'tier=web' })).toEqual(['Network/web', 'Endpoint/web-1']);
    expect(matching({ selector: 'tier!=web' })).toEqual(['Network/db', 'Endpoint/db-1', 'Host/h1', 'Firewall/edge', 'FirewallPolicy/all', 'FirewallPolicy/db-only']);
    expect(matching({ selector: 'team' })).toEqual(['Network/web']);
  });

  test('label selector: !key matches what lacks the label, as on the API and in kubectl', () => {
    expect(matching({ selector: '!tier' })).toEqual(['Endpoint/db-1', 'Host/h1', 'Firewall/edge', 'FirewallPolicy/all', 'FirewallPolicy/db-only']);
    expect(matching({ selector: 'tier,!team' })).toEqual(['Network/db', 'Endpoint/web-1']);
  });

  test('network: the network itself, its endpoints, firewalls guarding it, hosts with a block on it, policies applying to it', () => {
    expect(matching({ network: 'web' })).toEqual(['Network/web', 'Endpoint/web-1', 'Host/h1', 'Firewall/edge', 'FirewallPolicy/all']);
  });

  test('host: the host itself, what runs on it, and what it carries', () => {
    expect(matching({ host: 'h1' })).toEqual(['Network/web', 'Endpoint/web-1', 'Host/h1']);
    expect(matching({ host: 'h2' })).toEqual(['Endpoint/db-1', 'Firewall/edge']);
  });

  test.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('host %j: a name Object.prototype has matches only what really names it', (name) => {
    expect(matching({ host: name })).toEqual([]);
  });

  test('hostEntry reads own entries only', () => {
    const hosts = { h1: { ready: true, revision: 3 } };
    expect(hostEntry(hosts, 'h1')).toEqual({ ready: true, revision: 3 });
    expect(hostEntry(hosts, 'constructor')).toBeUndefined();
    expect(hostEntry(undefined, 'h1')).toBeUndefined();
  });

  test('filters combine, and free text matches names case-insensitively', () => {
    expect(matching({ selector: 'tier=web', host: 'h1', text: 'WEB-' })).toEqual(['Endpoint/web-1']);
  });

  test('a selector that does not parse matches nothing and says why', () => {
    const f = compileFilter({ selector: 'tier=we b' });
    expect(f.error).toBeDefined();
    expect(objects.filter((o) => matchesFilter(o, f))).toEqual([]);
  });
});
