// `weft describe router`: the live port-forward connections as a table,
// apart from the rest of the status.
import { renderDescribe } from '../../../cli/describe-view.js';
import type { Router } from '../../../model/kinds.js';

const router = (connections?: NonNullable<Router['status']>['connections']): Router => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Router',
  metadata: { name: 'edge', generation: 1, resourceVersion: '4' },
  spec: { host: 'h1', interfaces: [{ network: 'blue' }], external: { mode: 'host' }, portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'web1', port: 80 } }] },
  status: { ready: true, counters: [{ rule: 'forward tcp/8080', connections: 3 }], ...(connections ? { connections } : {}) },
});

describe('weft describe router', () => {
  test('lists the connections through its port forwards, with how many there are', () => {
    const text = renderDescribe('Router', router({ total: 2, items: [{ protocol: 'tcp', port: 8080, client: '192.0.2.9:40000', endpoint: '10.1.0.7:80', state: 'established' }] }), []);
    expect(text).toContain('Port-forward connections: 2 (the first 1)');
    expect(text).toMatch(/PROTOCOL\s+PORT\s+CLIENT\s+ENDPOINT\s+STATE/);
    expect(text).toMatch(/tcp\s+8080\s+192\.0\.2\.9:40000\s+10\.1\.0\.7:80\s+established/);
    // not twice: the status block leaves them out
    expect(text.match(/192\.0\.2\.9:40000/g)).toHaveLength(1);
    expect(text).toContain('forward tcp/8080');
  });

  test('says when there are none, and says nothing when the router lists none', () => {
    expect(renderDescribe('Router', router({ total: 0, items: [] }), [])).toMatch(/Port-forward connections:\s+none now/);
    expect(renderDescribe('Router', router(), [])).not.toContain('Port-forward connections');
  });
});
