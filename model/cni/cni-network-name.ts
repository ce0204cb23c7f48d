// The configuration's name, and the weft network it attaches to: `network`,
// else the name when that is a DNS label.
import { DNS_LABEL_PATTERN } from '../meta.js';
import { truncatedJson } from './cni-error.js';
import type { Json, Problems } from './cni-problems.js';
import { CNI_CODE } from './cni-types.js';

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
const DNS_LABEL_FIX = 'a DNS label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit';

function isDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

/** The weft network: `network`, else `name` when that is a DNS label. */
export function parseNetwork(conf: Json, name: string | undefined, p: Problems): string | undefined {
  if (conf.network !== undefined) {
    const network = p.string(conf.network, 'network');
    if (network === undefined) return undefined;
    if (!isDnsLabel(network)) return p.add(CNI_CODE.InvalidConfig, 'network', `${truncatedJson(network)} is not a weft network name`, DNS_LABEL_FIX);
    return network;
  }
  if (name === undefined) return undefined;
  if (!isDnsLabel(name)) {
    return p.add(
      CNI_CODE.InvalidConfig,
      'network',
      `is not set and the configuration's name ${truncatedJson(name)} is not a weft network name`,
      `set "network" to the weft network to attach to, ${DNS_LABEL_FIX}`,
    );
  }
  return name;
}
