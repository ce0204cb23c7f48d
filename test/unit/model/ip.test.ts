// parsePrefix4 takes a shortcut for plain dotted quads (policies carry
// thousands of CIDRs): its answers are those of the full ip-cidr check.
import IPCIDR from 'ip-cidr';
import { parsePrefix4 } from '../../../model/ip.js';

/** What parsePrefix4 answered before the shortcut: syntax unless ip-cidr accepts the text. */
function viaIpCidr(text: string): string {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m || !IPCIDR.isValidCIDR(text)) return 'syntax';
  const r = parsePrefix4(text);
  return 'prefix' in r ? `${r.prefix.base}/${r.prefix.length}` : r.problem;
}

const answer = (text: string): string => {
  const r = parsePrefix4(text);
  return 'prefix' in r ? `${r.prefix.base}/${r.prefix.length}` : r.problem;
};

test.each([
  '10.0.0.0/8', '10.0.0.0/08', '0.0.0.0/0', '255.255.255.255/32', '198.18.1.0/24', '198.18.1.1/24', '1.2.3.4/33', '1.2.3.4/99',
  '01.2.3.4/32', '1.2.3/24', '256.1.1.1/32', 'fd00::/64', '::ffff:1.2.3.4/128', '1.2.3.4', '1.2.3.4/', ' 1.2.3.4/32', '1.2.3.4/32 ',
])('%s: the answer of the full check', (text) => {
  expect(answer(text)).toBe(viaIpCidr(text));
});
