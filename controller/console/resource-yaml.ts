// An object as the editor loads it for a change: what a user writes
// (labels and spec) plus resourceVersion, so the apply is refused with a
// 409 if someone else changed the object in between, as with
// `weft get -o yaml`. Status and the fields the controller sets are left
// out: they are not the user's to send. Pure.
import { stringify } from 'yaml';
import type { AnyResource } from '../../model/kinds.js';

export function editableYaml(o: AnyResource): string {
  const metadata: Record<string, unknown> = { name: o.metadata.name };
  if (o.metadata.labels && Object.keys(o.metadata.labels).length > 0) metadata.labels = o.metadata.labels;
  if (o.metadata.resourceVersion !== undefined) metadata.resourceVersion = o.metadata.resourceVersion;
  return stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata, spec: o.spec }, { lineWidth: 0 });
}

/** A starting point for a new object of each kind the editor offers. */
export const TEMPLATES: Record<string, string> = {
  Network: `apiVersion: weft.dev/v1
kind: Network
metadata:
  name: blue
  labels: { team: web }
spec:
  subnet: 10.20.0.0/24   # gateway, VNI and MTU are filled in by the controller
`,
  Endpoint: `apiVersion: weft.dev/v1
kind: Endpoint
metadata:
  name: web-1
spec:
  network: blue
  host: h1
  containerId: web-1
  ifname: eth0
  ip: 10.20.0.10
`,
  Host: `apiVersion: weft.dev/v1
kind: Host
metadata:
  name: h1
spec:
  address: 192.0.2.11
`,
  FirewallPolicy: `apiVersion: weft.dev/v1
kind: FirewallPolicy
metadata:
  name: web-in
spec:
  appliesTo: { network: blue }
  ingress:
    defaultAction: deny
    rules:
      - name: http
        action: allow
        protocol: tcp
        ports: [80, 443]
`,
  Firewall: `apiVersion: weft.dev/v1
kind: Firewall
metadata:
  name: edge
spec:
  host: h1
  networks: [{ network: web }, { network: db }]
  defaultAction: deny
  rules:
    - name: ping
      action: allow
      protocol: icmp
`,
  Router: `apiVersion: weft.dev/v1
kind: Router
metadata:
  name: edge
spec:
  host: h1
  interfaces: [{ network: blue }, { network: red }]
  external: { mode: host }   # out with the host's address; leave out for routing only
`,
};
