import { addressSpaceOf, blockContaining, classifyAddress, freeBlocks, usableRange } from '../../../../controller/ipam/address-space.js';
import { formatPrefix4, ipv4ToInt, parsePrefix4, type Prefix4 } from '../../../../model/ip.js';
import { network } from '../support/harness.js';

const p = (cidr: string): Prefix4 => {
  const r = parsePrefix4(cidr);
  if ('problem' in r) throw new Error(cidr);
  return r.prefix;
};
const take = (gen: Generator<Prefix4>, n: number) => {
  const out: string[] = [];
  for (const b of gen) {
    out.push(formatPrefix4(b));
    if (out.length === n) break;
  }
  return out;
};

describe('address space', () => {
  test('network, gateway and broadcast addresses are not usable', () => {
    const s = addressSpaceOf(network('n', { subnet: '10.0.0.0/24' }));
    expect(classifyAddress(s, ipv4ToInt('10.0.0.0'))).toBe('network');
    expect(classifyAddress(s, ipv4ToInt('10.0.0.1'))).toBe('gateway');
    expect(classifyAddress(s, ipv4ToInt('10.0.0.255'))).toBe('broadcast');
    expect(classifyAddress(s, ipv4ToInt('10.0.0.2'))).toBe('usable');
    expect(classifyAddress(s, ipv4ToInt('10.0.1.2'))).toBe('outside');
    expect(usableRange(s)).toBe('10.0.0.2 - 10.0.0.254');
  });

  test('a gateway in the middle of the subnet is named in the range', () => {
    const s = addressSpaceOf(network('n', { subnet: '10.0.0.0/24', gateway: '10.0.0.100' }));
    expect(classifyAddress(s, ipv4ToInt('10.0.0.1'))).toBe('usable');
    expect(usableRange(s)).toBe('10.0.0.1 - 10.0.0.254, except the gateway 10.0.0.100');
  });

  test('block size: /26 by default, spec.blockSize if set, the subnet if smaller', () => {
    expect(addressSpaceOf(network('n', { subnet: '10.0.0.0/16' })).blockLength).toBe(26);
    expect(addressSpaceOf(network('n', { subnet: '10.0.0.0/16', blockSize: 28 })).blockLength).toBe(28);
    expect(addressSpaceOf(network('n', { subnet: '10.0.0.0/28' })).blockLength).toBe(28);
  });

  test('free blocks skip taken ones of any size, lowest first', () => {
    const s = addressSpaceOf(network('n', { subnet: '10.0.0.0/24' }));
    expect(take(freeBlocks(s, []), 5)).toEqual(['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26']);
    expect(take(freeBlocks(s, [p('10.0.0.64/26'), p('10.0.0.200/29')]), 5)).toEqual(['10.0.0.0/26', '10.0.0.128/26']);
    expect(take(freeBlocks(s, [p('10.0.0.0/25')]), 5)).toEqual(['10.0.0.128/26', '10.0.0.192/26']);
  });

  test('blockContaining aligns to the block size', () => {
    const s = addressSpaceOf(network('n', { subnet: '10.0.0.0/24' }));
    expect(formatPrefix4(blockContaining(s, ipv4ToInt('10.0.0.77')))).toBe('10.0.0.64/26');
  });
});
