// The resource kinds by name: what the CLI and REST paths accept. No
// schemas here (model/kinds.ts has them), so a client can resolve a kind
// name without loading the schema library.

/** The apiVersion every weft resource carries. */
export const API_VERSION = 'weft.dev/v1';

export const KINDS = ['Network', 'Endpoint', 'Host', 'FirewallPolicy', 'Firewall', 'Router'] as const;
export type Kind = (typeof KINDS)[number];

/** Plural and short names the CLI and REST paths accept. */
export const KIND_NAMES: Record<Kind, { plural: string; aliases: string[] }> = {
  Network: { plural: 'networks', aliases: ['network', 'net', 'nets'] },
  Endpoint: { plural: 'endpoints', aliases: ['endpoint', 'ep', 'eps'] },
  Host: { plural: 'hosts', aliases: ['host', 'node', 'nodes'] },
  FirewallPolicy: { plural: 'firewallpolicies', aliases: ['firewallpolicy', 'fwp', 'policy', 'policies'] },
  Firewall: { plural: 'firewalls', aliases: ['firewall', 'fw', 'fws'] },
  Router: { plural: 'routers', aliases: ['router', 'rt', 'rts'] },
};

export function kindFromName(name: string): Kind | undefined {
  const lower = name.toLowerCase();
  for (const kind of KINDS) {
    const n = KIND_NAMES[kind];
    if (lower === kind.toLowerCase() || lower === n.plural || n.aliases.includes(lower)) return kind;
  }
  return undefined;
}

/** How a resource is named in apply output and diffs: kind in lower case, slash, name (network/blue). */
/** "networks, endpoints, ... or routers (singular and short forms work: net, ep, ...)": for a command's help. */
export function kindArgumentHelp(): string {
  const plurals = KINDS.map((k) => KIND_NAMES[k].plural);
  const shortest = KINDS.map((k) => [...KIND_NAMES[k].aliases].sort((a, b) => a.length - b.length)[0]);
  return `${plurals.slice(0, -1).join(', ')} or ${plurals[plurals.length - 1]} (singular and short forms work: ${shortest.join(', ')})`;
}

export const resourceId = (r: { kind: string; name: string }): string => `${r.kind.toLowerCase()}/${r.name}`;
