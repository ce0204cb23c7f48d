// A MAC a runtime asks for may not be in a range weft derives MACs from:
// it could take another endpoint's (0a:58 + its address), a VNF's or a
// gateway's identity on the segment.
import { parseAttachParams } from '../../../../agents/endpoints/endpoint-params.js';
import { checkEndpointSpec } from '../../../../model/validate.js';
import { caught } from '../../controller/support/caught.js';

const params = (mac: string) => ({ network: 'blue', containerId: 'c1', netns: '/run/netns/x', mac });

describe('requested MACs', () => {
  test.each([
    ['0a:58:0a:01:00:07', "endpoints' MACs derived from their addresses"],
    ['0A:77:12:34:56:78', "network functions' MACs"],
    ['02:77:66:00:10:00', "networks' gateway MACs"],
  ])('%s is refused at attach and in a declared Endpoint, naming the range', (mac, range) => {
    const e = caught(() => parseAttachParams(params(mac)));
    expect(e.code).toBe('Invalid');
    expect(e.message).toContain(range);
    const issues = checkEndpointSpec({ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'e' }, spec: { network: 'blue', host: 'h1', containerId: 'c1', ifname: 'eth0', mac } });
    expect(issues.map((i) => i.path)).toEqual(['/spec/mac']);
  });

  test('another locally administered MAC is taken as asked', () => {
    expect(parseAttachParams(params('02:42:ac:11:00:02')).mac).toBe('02:42:ac:11:00:02');
  });
});
