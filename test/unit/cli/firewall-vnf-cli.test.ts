// The Firewall VNF in the CLI: the get table, apply -f with positioned
// semantic errors, and get/delete through the generic resource path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderResourceTable } from '../../../cli/resource-table.js';
import type { Firewall } from '../../../model/kinds.js';
import { controllerWithCli } from './support/cli-harness.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');

const edge: Firewall = {
  apiVersion: 'weft.dev/v1',
  kind: 'Firewall',
  metadata: { name: 'edge', creationTimestamp: '2026-01-10T11:00:00Z', labels: { zone: 'dmz' } },
  spec: { host: 'node-a', networks: [{ network: 'web' }, { network: 'db' }], rules: [{ action: 'allow', protocol: 'tcp', ports: [5432] }] },
  status: { ready: true, interfaces: [{ network: 'web', ip: '10.0.0.254', mac: '0a:77:00:00:00:01' }, { network: 'db', ip: '10.1.0.254', mac: '0a:77:00:00:00:02' }] },
};

describe('weft and Firewall VNFs', () => {
  test('get shows host, networks, rule count, default action and readiness; wide adds the addresses', () => {
    expect(renderResourceTable('Firewall', [edge], false, NOW)).toMatch(/^NAME\s+HOST\s+NETWORKS\s+RULES\s+DEFAULT\s+READY\s+AGE\nedge\s+node-a\s+web,db\s+1\s+deny\s+True\s+60m\n$/);
    expect(renderResourceTable('Firewall', [edge], true, NOW)).toContain('web:10.0.0.254,db:10.1.0.254');
  });

  test('apply -f, get fw, delete fw', async () => {
    const ctl = await controllerWithCli();
    const dir = mkdtempSync(join(tmpdir(), 'weft-fw-'));
    try {
      const file = join(dir, 'fw.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: weft.dev/v1\nkind: Network\nmetadata: {name: web}\nspec: {subnet: 10.0.0.0/24}',
          'apiVersion: weft.dev/v1\nkind: Network\nmetadata: {name: db}\nspec: {subnet: 10.1.0.0/24}',
          'apiVersion: weft.dev/v1\nkind: Firewall\nmetadata: {name: edge}\nspec:\n  host: node-a\n  networks: [{network: web}, {network: db}]\n  rules:\n    - {action: allow, protocol: tcp, ports: [5432], to: [{network: db}]}',
        ].join('\n---\n'),
      );
      const applied = await ctl.weft('apply', '-f', file);
      expect(applied.code).toBe(0);
      expect(applied.out).toContain('firewall/edge created');
      const got = await ctl.weft('get', 'fw', '-o', 'wide');
      expect(got.out).toMatch(/edge\s+node-a\s+web,db\s+1\s+deny\s+False/);
      expect(got.out).toContain('web:10.0.0.254,db:10.1.0.254');
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'apiVersion: weft.dev/v1\nkind: Firewall\nmetadata: {name: bad}\nspec:\n  host: node-a\n  networks: [{network: web}, {network: web}]\n');
      const refused = await ctl.weft('apply', '-f', bad);
      expect(refused.code).not.toBe(0);
      expect(refused.err).toMatch(/bad\.yaml:6:\d+.*listed twice/);
      expect((await ctl.weft('delete', 'fw', 'edge')).code).toBe(0);
      expect((await ctl.weft('get', 'firewalls')).err).toContain('No firewalls found.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await ctl.close();
    }
  });
});
