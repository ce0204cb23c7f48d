// The text of `weft describe KIND NAME`: one resource for people, like
// kubectl describe: metadata, whether the data plane caught up with the spec, the spec, the
// status conditions, per-host realisation and the recent events. A
// FirewallPolicy shows its spec as a summary and its rules in order, each
// with the packets and bytes it matched.
import { stringify } from 'yaml';
import type { WeftEvent } from '../model/events.js';
import type { FirewallPeer, FirewallPolicy, FirewallPolicyStatus, RuleCounter } from '../model/firewall.js';
import type { AnyResource, Kind, Network, Router } from '../model/kinds.js';
import type { RouterStatus } from '../model/router.js';
import type { Condition } from '../model/meta.js';
import { DEFAULT_POLICY_PRIORITY } from '../model/resource-defaults.js';
import { appliesToSummary } from './resource-table.js';
import { NONE, cell, formatAge, renderTable } from './table.js';

const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');

function field(label: string, value: string): string {
  return `${`${label}:`.padEnd(Math.max(22, label.length + 2))}${value}\n`;
}

function when(time: string | undefined, now: number): string {
  return time === undefined ? NONE : `${time} (${formatAge(time, now)} ago)`;
}

function yamlBlock(title: string, value: unknown): string {
  const empty = value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
  return empty ? field(title, NONE) : `${title}:\n${indent(stringify(value).trimEnd())}\n`;
}

function labels(r: AnyResource): string {
  const entries = Object.entries(r.metadata.labels ?? {});
  return entries.length === 0 ? NONE : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** Per-host state as Network and FirewallPolicy status both hold it. */
interface HostProgress {
  ready: boolean;
  revision: number;
  endpoints?: number;
  message?: string;
}

/**
 * Did the data plane catch up with the spec? A host has the current spec
 * once the plan revision it applied is at least the resource's
 * resourceVersion (plans are cut from the whole store at a revision).
 * `idle` is the line for a resource no host has to realise yet; with
 * `endpoints`, the hosts table shows each host's endpoint count.
 */
function progress(
  r: { metadata: AnyResource['metadata']; status?: { observedGeneration?: number; hosts?: Record<string, HostProgress> } },
  idle: string,
  endpoints = false,
): { line: string; hosts: string } {
  const s = r.status ?? {};
  const generation = r.metadata.generation ?? 1;
  const observed = s.observedGeneration;
  const version = Number(r.metadata.resourceVersion ?? 0);
  const hosts = Object.entries(s.hosts ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // ready already means "applied everything it was sent": a change that
  // leaves a host's plan alone sends it nothing, so its revision stays older.
  const behind = hosts.filter(([, h]) => !h.ready).map(([name]) => name);
  let line: string;
  if (observed === undefined || observed < generation) line = `no: the controller has not observed generation ${generation} yet`;
  else if (hosts.length === 0) line = `yes: ${idle}`;
  else if (behind.length === 0) line = `yes: ${hosts.length} host${hosts.length === 1 ? '' : 's'} applied revision ${version} or later and ${hosts.length === 1 ? 'is' : 'are'} ready`;
  else line = `no: waiting for ${behind.join(', ')} (${behind.length} of ${hosts.length} host${hosts.length === 1 ? '' : 's'})`;
  const headers = ['HOST', 'READY', 'APPLIED-REVISION', 'CURRENT', ...(endpoints ? ['ENDPOINTS'] : []), 'MESSAGE'];
  const rows = hosts.map(([name, h]) => [
    name,
    h.ready ? 'True' : 'False',
    String(h.revision),
    h.revision >= version ? 'yes' : 'no',
    ...(endpoints ? [cell(h.endpoints)] : []),
    cell(h.message),
  ]);
  const table = hosts.length === 0 ? field('Hosts', NONE) : `Hosts:\n${indent(renderTable(headers, rows).trimEnd())}\n`;
  return { line, hosts: table };
}

function networkProgress(n: Network): { line: string; hosts: string } {
  return progress(n, 'no host carries this network yet, so there is nothing to realise');
}

/** One peer for people: "network:db,tier=app" for endpoints, "10.0.0.0/8 except 10.1.0.0/16" for addresses. */
function peerSummary(p: FirewallPeer): string {
  if (p.cidr !== undefined) return p.except && p.except.length > 0 ? `${p.cidr} except ${p.except.join(',')}` : p.cidr;
  const parts = [...(p.network === undefined ? [] : [`network:${p.network}`]), ...Object.entries(p.selector ?? {}).map(([k, v]) => `${k}=${v}`)];
  return parts.length === 0 ? '<all endpoints>' : parts.join(',');
}

/** A rule's peers; several are alternatives (any of them matches). */
function peersSummary(peers: FirewallPeer[] | undefined): string {
  return peers === undefined ? '<any>' : peers.map(peerSummary).join(' | ');
}

/** The policy's spec in order: what it applies to, then every rule of each direction with its counters. */
function firewallPolicySpec(p: FirewallPolicy, status: FirewallPolicyStatus): string {
  let out = '';
  out += field('Priority', p.spec.priority === undefined ? `${DEFAULT_POLICY_PRIORITY} (default)` : String(p.spec.priority));
  const applies = appliesToSummary(p);
  out += field('Applies to', applies === '<all>' ? '<all endpoints>' : applies);
  const sets = Object.entries(p.spec.portSets ?? {});
  out += field('Port sets', sets.length === 0 ? NONE : sets.map(([name, ports]) => `@${name}=${ports.join(',')}`).join(' '));
  const counters = new Map<string, RuleCounter>((status.counters ?? []).map((c) => [`${c.direction}/${c.rule}`, c]));
  const count = (direction: string, rule: string): [string, string] => {
    const c = counters.get(`${direction}/${rule}`);
    return [String(c?.packets ?? 0), String(c?.bytes ?? 0)];
  };
  const rows: string[][] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    const d = p.spec[direction];
    const rules = d?.rules ?? [];
    const n = rules.length;
    const title = direction === 'ingress' ? 'Ingress' : 'Egress';
    if (d === undefined) out += field(title, NONE);
    else out += field(title, `${n} rule${n === 1 ? '' : 's'}, default ${d.defaultAction ?? 'not set (allow, unless a policy before this one sets one)'}`);
    rules.forEach((rule, i) => {
      const peers = direction === 'ingress' ? (rule as { from?: FirewallPeer[] }).from : (rule as { to?: FirewallPeer[] }).to;
      const action = rule.log === true && rule.action !== 'log' ? `${rule.action}+log` : rule.action;
      const ports = rule.ports === undefined ? '<all>' : rule.ports.join(',');
      rows.push([direction, String(i), cell(rule.name), action, peersSummary(peers), rule.protocol ?? 'any', ports, ...count(direction, rule.name ?? String(i))]);
    });
    if (d?.defaultAction !== undefined || counters.has(`${direction}/default`)) {
      rows.push([direction, '-', 'default', d?.defaultAction ?? '<not set>', '<any>', 'any', '<all>', ...count(direction, 'default')]);
    }
  }
  out +=
    rows.length === 0
      ? field('Rules', NONE)
      : `Rules:\n${indent(renderTable(['DIRECTION', '#', 'NAME', 'ACTION', 'PEERS', 'PROTOCOL', 'PORTS', 'PACKETS', 'BYTES'], rows).trimEnd())}\n`;
  return out;
}

function conditionsBlock(conditions: Condition[] | undefined, now: number): string {
  if (!conditions || conditions.length === 0) return field('Conditions', NONE);
  const rows = conditions.map((c) => [c.type, c.status, c.reason, when(c.lastTransitionTime, now), c.message]);
  return `Conditions:\n${indent(renderTable(['TYPE', 'STATUS', 'REASON', 'LAST-TRANSITION', 'MESSAGE'], rows).trimEnd())}\n`;
}

/** kubectl's AGE column: "3m", or "3m (x4 over 10m)" for a repeated event. */
function eventAge(e: WeftEvent, now: number): string {
  const age = formatAge(e.time, now);
  return e.count > 1 ? `${age} (x${e.count} over ${formatAge(e.firstTime, now)})` : age;
}

function renderEvents(events: WeftEvent[], now: number): string {
  if (events.length === 0) return field('Events', NONE);
  const rows = events.map((e) => [e.type, e.reason, eventAge(e, now), e.message]);
  return `Events:\n${indent(renderTable(['TYPE', 'REASON', 'AGE', 'MESSAGE'], rows).trimEnd())}\n`;
}

/** The whole description; pure, so tests can pin it. */
/** The live connections through a router's port forwards, as a table. */
function routerConnections(c: RouterStatus['connections']): string {
  if (c === undefined) return '';
  if (c.total === 0) return field('Port-forward connections', 'none now');
  const shown = c.items.length < c.total ? ` (the first ${c.items.length})` : '';
  const rows = c.items.map((x) => [x.protocol, String(x.port), x.client, x.endpoint, cell(x.state)]);
  return `Port-forward connections: ${c.total}${shown}\n${indent(renderTable(['PROTOCOL', 'PORT', 'CLIENT', 'ENDPOINT', 'STATE'], rows).trimEnd())}\n`;
}

export function renderDescribe(kind: Kind, r: AnyResource, events: WeftEvent[], now = Date.now()): string {
  const m = r.metadata;
  const status = (r.status ?? {}) as Record<string, unknown> & { conditions?: Condition[]; observedGeneration?: number };
  let out = '';
  out += field('Name', m.name);
  out += field('Kind', kind);
  out += field('Labels', labels(r));
  out += field('Created', when(m.creationTimestamp, now));
  out += field('Resource version', cell(m.resourceVersion));
  out += field('Generation', cell(m.generation));
  let hosts = '';
  if (kind === 'Network' || kind === 'FirewallPolicy') {
    const p = kind === 'Network' ? networkProgress(r as Network) : progress(r as FirewallPolicy, 'it applies to no endpoint yet, so there is nothing to enforce', true);
    out += field('Observed generation', cell(status.observedGeneration));
    out += field('Data plane caught up', p.line);
    hosts = p.hosts;
  } else if (status.observedGeneration !== undefined) {
    out += field('Observed generation', String(status.observedGeneration));
  }
  if (kind === 'FirewallPolicy') {
    const policy = r as FirewallPolicy;
    out += field('Endpoints', cell(policy.status?.endpoints));
    out += firewallPolicySpec(policy, policy.status ?? {});
  } else {
    out += yamlBlock('Spec', r.spec);
    const shownApart = new Set(['conditions', 'hosts', 'observedGeneration', ...(kind === 'Router' ? ['connections'] : [])]);
    const rest = Object.fromEntries(Object.entries(status).filter(([k]) => !shownApart.has(k)));
    out += yamlBlock('Status', rest);
    if (kind === 'Router') out += routerConnections((r as Router).status?.connections);
  }
  out += conditionsBlock(status.conditions, now);
  out += hosts;
  out += renderEvents(events, now);
  return out;
}
