// The top-level fields of weft's plugin configuration: which ones weft reads,
// and a refusal (code 2) for every other one, with where weft sets the thing
// another plugin's field asks for, or a "did you mean" for a misspelling.
import { truncatedJson } from './cni-error.js';
import type { Json, Problems } from './cni-problems.js';
import { CNI_CODE } from './cni-types.js';
import { closestMatch } from '../did-you-mean.js';

/** The top-level configuration fields weft reads (besides reserved `cni.dev/` keys). */
const CNI_CONFIG_FIELDS = [
  'cniVersion', 'cniVersions', 'name', 'type', 'network', 'agentSocket', 'timeoutSeconds', 'capabilities', 'runtimeConfig', 'args',
  'prevResult', 'dns', 'disableCheck', 'disableGC', 'loadOnlyInlinedPlugins', 'cni.dev/valid-attachments',
] as const;

/**
 * Fields of other plugins (bridge, ptp, ...) that weft could be meant to
 * honour but does not: refused with code 2 and where weft sets the thing.
 */
const UNSUPPORTED_HINTS: Record<string, string> = {
  ipam: 'weft allocates addresses from the weft network\'s subnet: remove "ipam", and pass runtimeConfig.ips or args.cni.ips to ask for an address',
  ipMasq: 'weft does not masquerade: remove "ipMasq"',
  mtu: 'set spec.mtu on the weft network',
  bridge: 'weft names and manages the bridge of each network itself: remove "bridge"',
  isGateway: 'the bridge always holds the gateway that spec.gateway of the weft network sets: remove "isGateway"',
  isDefaultGateway: 'weft always adds a default route via the network\'s gateway: remove "isDefaultGateway"',
  hairpinMode: 'weft does not configure hairpin mode: remove "hairpinMode"',
  promiscMode: 'weft does not put bridges in promiscuous mode: remove "promiscMode"',
  forceAddress: 'remove "forceAddress"',
  vlan: 'weft networks are VXLAN segments: remove "vlan"',
  vlanTrunk: 'weft networks are VXLAN segments: remove "vlanTrunk"',
  preserveDefaultVlan: 'remove "preserveDefaultVlan"',
  macspoofchk: 'remove "macspoofchk"',
  enabledad: 'remove "enabledad"',
  master: 'weft picks the underlay itself: remove "master"',
  mode: 'remove "mode"',
  subnet: 'set spec.subnet on the weft network',
  gateway: 'set spec.gateway on the weft network',
  vni: 'set spec.vni on the weft network',
  plugins: 'this is a whole network configuration list: the runtime must pass the one plugin configuration of weft from it',
};

/** "did you mean" for a misspelled field. */
function suggestField(word: string): string | undefined {
  return closestMatch(word, CNI_CONFIG_FIELDS);
}

export function checkTopLevelFields(conf: Json, p: Problems): void {
  for (const [key, value] of Object.entries(conf)) {
    if ((CNI_CONFIG_FIELDS as readonly string[]).includes(key)) continue;
    // Reserved for the runtime (spec section 1): not the administrator's to remove, so not refused.
    if (key.startsWith('cni.dev/')) continue;
    const hint = Object.hasOwn(UNSUPPORTED_HINTS, key) ? UNSUPPORTED_HINTS[key] : undefined;
    if (hint !== undefined) {
      p.add(CNI_CODE.UnsupportedField, key, `is not supported by weft (value ${truncatedJson(value)})`, hint);
    } else {
      const near = suggestField(key);
      const fix = near ? `did you mean "${near}"?` : `weft reads ${CNI_CONFIG_FIELDS.join(', ')}: remove it`;
      p.add(CNI_CODE.UnsupportedField, key, `is an unknown field (value ${truncatedJson(value)})`, fix);
    }
  }
}
