// `dns` of a plugin configuration (values checked, unknown keys refused) or
// of a result another plugin wrote (shape only).
import { isIPv4, isIPv6 } from '../ip.js';
import { truncatedJson } from './cni-error.js';
import { at, type Problems } from './cni-problems.js';
import { CNI_CODE, type CniDns } from './cni-types.js';

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const DNS_FIELDS = ['nameservers', 'domain', 'search', 'options'];

/**
 * `dns` of the configuration (strict: values checked, unknown keys refused)
 * or of a prevResult (shape only, code 6: another plugin wrote it).
 */
export function parseDns(v: unknown, where: string, p: Problems, strict: boolean): CniDns | undefined {
  const code = strict ? CNI_CODE.InvalidConfig : CNI_CODE.DecodeFailure;
  const o = p.object(v, where, code);
  if (!o) return undefined;
  const before = p.count;
  const out: CniDns = {};
  if (strict) {
    for (const [k, val] of Object.entries(o)) {
      if (!DNS_FIELDS.includes(k)) p.add(CNI_CODE.UnsupportedField, at(where, k), `is an unknown field (value ${truncatedJson(val)})`, `dns takes ${DNS_FIELDS.join(', ')}`);
    }
  }
  const list = (key: string, check: (s: string) => string | undefined, fix: string): string[] | undefined => {
    if (o[key] === undefined) return undefined;
    const items = p.strings(o[key], at(where, key), code);
    if (items && strict) items.forEach((s, i) => {
      const problem = check(s);
      if (problem !== undefined) p.add(CNI_CODE.InvalidConfig, at(at(where, key), i), problem, fix);
    });
    return items;
  };
  const nameservers = list('nameservers', (s) => (isIPv4(s) || isIPv6(s) ? undefined : `${truncatedJson(s)} is not an IP address`), 'write IPv4 or IPv6 addresses, e.g. 10.1.0.1');
  const search = list('search', (s) => (DNS_NAME.test(s) ? undefined : `${truncatedJson(s)} is not a domain name`), 'write domain names, e.g. svc.example.com');
  const options = list('options', (s) => (/^\S+$/.test(s) ? undefined : `${truncatedJson(s)} is not a resolver option`), 'write resolv.conf options without spaces, e.g. ndots:5');
  let domain: string | undefined;
  if (o.domain !== undefined) {
    domain = p.string(o.domain, at(where, 'domain'), code);
    if (domain !== undefined && strict && !DNS_NAME.test(domain)) {
      p.add(CNI_CODE.InvalidConfig, at(where, 'domain'), `${truncatedJson(domain)} is not a domain name`, 'write a domain name, e.g. example.com');
    }
  }
  if (p.count !== before) return undefined;
  if (nameservers) out.nameservers = nameservers;
  if (domain !== undefined) out.domain = domain;
  if (search) out.search = search;
  if (options) out.options = options;
  return out;
}
