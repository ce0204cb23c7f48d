import { parseVtepAddress } from '../../../../controller/hosts/vtep-address.js';

describe('parseVtepAddress', () => {
  it.each([
    ['192.0.2.10', '192.0.2.10'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['127.0.0.1', '127.0.0.1'],
  ])('%s is usable as %s', (text, address) => {
    expect(parseVtepAddress(text)).toEqual({ address });
  });

  it.each([
    ['fd00::1', /not an IPv4 address/],
    ['host.example', /not an IPv4 address/],
    ['0.0.0.0', /unspecified/],
    ['239.1.1.1', /not a unicast address/],
    ['255.255.255.255', /not a unicast address/],
  ])('%s is refused', (text, problem) => {
    const r = parseVtepAddress(text);
    expect('problem' in r && r.problem).toMatch(problem);
  });
});
