// The bad-input corpus of `weft apply -f` (issue 5): malformed documents of
// every sort, each run through the CLI against a running controller that
// already holds the examples/ topology. Every case must end with the
// expected exit status and the expected problems, each at its FILE:LINE:COL
// with its field path, the bad value and what is allowed, and the store must
// be byte-for-byte what it was before.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KINDS } from '../../../model/kinds.js';
import { controllerWithCli, storeDump } from './support/cli-harness.js';

const EXAMPLES = resolve(import.meta.dirname, '../../../examples');

/** One expected problem line: where ([file:]LINE:COL), the field path, and what the message says. */
type Expected = [at: string, path: string, message: RegExp];

interface Case {
  name: string;
  /** File name -> text; a plain string is one file, a.yaml. */
  files: string | Record<string, string>;
  /** Expected problem lines, in the order printed. */
  problems: Expected[];
  /** Exit status (default 1). */
  code?: number;
  /** The final `error:` line. */
  error?: RegExp;
}

// Line numbers in the templates: 1 apiVersion, 2 kind, 3 metadata, 4 name, 5 spec, 6.. spec fields.
const net = (name: string, spec = '  subnet: 10.20.0.0/24\n') => `apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
// 6 network, 7 host, 8 containerId, 9 ifname, 10.. extra fields.
const ep = (name: string, extra = '', network = 'web') =>
  `apiVersion: weft.dev/v1\nkind: Endpoint\nmetadata:\n  name: ${name}\nspec:\n  network: ${network}\n  host: node-a\n  containerId: ${name}\n  ifname: eth0\n${extra}`;
const host = (name: string, spec = '  address: 10.0.0.21\n') => `apiVersion: weft.dev/v1\nkind: Host\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

// 6.. spec fields. fwRule: 6 ingress, 7 rules, 8 "- action: allow", 9.. the rule's other fields (indented 8).
const fwp = (name: string, spec: string) => `apiVersion: weft.dev/v1\nkind: FirewallPolicy\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const fwRule = (fields: string) => `  ingress:\n    rules:\n      - action: allow\n${fields}`;
const flowRules = (n: number) => `[${Array.from({ length: n }, () => '{action: allow}').join(', ')}]`;

// 6 host, 7 interfaces, 8.. one line per network ("    - network: N", the value at column 16), then the extra fields.
const rt = (name: string, extra = '', networks = ['web', 'app'], host = 'node-a') =>
  `apiVersion: weft.dev/v1\nkind: Router\nmetadata:\n  name: ${name}\nspec:\n  host: ${host}\n  interfaces:\n${networks.map((n) => `    - network: ${n}\n`).join('')}${extra}`;

/** A router's external segment (line 10 of rt's document, with two networks). */
const SEG = '  external: {mode: interface, interface: eth1, address: 203.0.113.10/24, gateway: 203.0.113.1}\n';

/** "(allowed: Network, Endpoint, ...)": every kind, in KINDS order. */
const ALLOWED_KINDS = `\\(allowed: ${KINDS.join(', ')}\\)`;

const DNS_LABEL = /allowed: lowercase letters, digits and "-", starting and ending with a letter or digit/;

const cases: Case[] = [
  // --- YAML syntax ---
  { name: 'unclosed flow mapping', files: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata: {name: y1\nspec:\n  subnet: 10.20.0.0/24\n', problems: [['3:11', 'YAML', /./]] },
  { name: 'unclosed double quote', files: net('y2', '  subnet: "10.20.0.0/24\n'), problems: [['6:11', 'YAML', /Missing closing "quote/]] },
  { name: 'a tab used for indentation', files: net('y3', '\tsubnet: 10.20.0.0/24\n'), problems: [['6:1', 'YAML', /.*[Tt]ab/]] },
  { name: 'duplicate key in a mapping', files: net('y4', '  subnet: 10.20.0.0/24\n  subnet: 10.21.0.0/24\n'), problems: [['7:3', 'YAML', /duplicate key "subnet" in one mapping \(first at line 6, column 3\)/]] },
  { name: 'a second mapping on one line', files: net('y5', '  subnet: 10.20.0.0/24 gateway: 10.20.0.1\n'), problems: [['6:11', 'YAML', /./]] },
  { name: 'alias to an anchor that does not exist', files: net('y6', '  subnet: *nowhere\n'), problems: [['6:11', 'YAML', /.*nowhere/]] },
  { name: 'bad indentation of a mapping entry', files: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y7\n   labels: {}\nspec:\n  subnet: 10.20.0.0/24\n', problems: [['4:9', 'YAML', /Nested mappings are not allowed/], ['4:9', 'YAML', /Implicit keys need to be on a single line/]] },
  { name: 'an alias bomb (billion laughs)', files: `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`, problems: [['1:1', 'YAML', /.*[Aa]lias/]] },
  { name: 'a syntax error in the second document only', files: `${net('y9')}---\n${net('y10', '  subnet: [10.21.0.0/24\n')}`, problems: [['13:11', 'YAML', /./]] },

  // --- not a resource at all ---
  { name: 'a list instead of a mapping', files: '- a\n- b\n', problems: [['1:1', '/', /a resource must be an object, got array/]] },
  { name: 'a plain string document', files: 'hello world\n', problems: [['1:1', '/', /a resource must be an object, got string/]] },
  { name: 'a file with only comments', files: '# nothing here\n---\n# nor here\n', problems: [], error: /no resources found in .*a\.yaml/ },

  // --- kinds and apiVersions ---
  { name: 'misspelled kind', files: net('k1').replace('kind: Network', 'kind: Netwerk'), problems: [['2:7', '/kind', new RegExp(`unknown kind "Netwerk" \\(did you mean "Network"\\?\\) ${ALLOWED_KINDS}`)]] },
  { name: 'lowercase kind', files: net('k2').replace('kind: Network', 'kind: network'), problems: [['2:7', '/kind', /unknown kind "network" \(did you mean "Network"\?\)/]] },
  { name: 'a kind weft does not have', files: net('k3').replace('kind: Network', 'kind: Pod'), problems: [['2:7', '/kind', new RegExp(`unknown kind "Pod" ${ALLOWED_KINDS}`)]] },
  { name: 'kind missing', files: net('k4').replace('kind: Network\n', ''), problems: [['1:1', '/kind', /required field "kind" is missing/]] },
  { name: 'apiVersion missing', files: net('k5').replace('apiVersion: weft.dev/v1\n', ''), problems: [['1:1', '/apiVersion', /required field "apiVersion" is missing \(allowed: weft\.dev\/v1\)/]] },
  { name: 'a Kubernetes apiVersion', files: net('k6').replace('weft.dev/v1', 'v1'), problems: [['1:13', '/apiVersion', /unsupported apiVersion "v1" \(allowed: weft\.dev\/v1\)/]] },
  { name: 'a future apiVersion', files: net('k7').replace('weft.dev/v1', 'weft.dev/v2'), problems: [['1:13', '/apiVersion', /unsupported apiVersion "weft\.dev\/v2"/]] },
  { name: 'a List whose items is not a list', files: 'apiVersion: weft.dev/v1\nkind: NetworkList\nitems: nope\n', problems: [['3:8', '/items', /must be an array of resources, got string/]] },
  { name: 'a NetworkList holding a Host', files: `apiVersion: weft.dev/v1\nkind: NetworkList\nitems:\n  - apiVersion: weft.dev/v1\n    kind: Host\n    metadata: { name: k9 }\n    spec: {}\n`, problems: [['5:11', '/items/0/kind', /a NetworkList holds Network resources, not Host \(allowed: Network\)/]] },
  { name: 'a bad item inside a List', files: `apiVersion: weft.dev/v1\nkind: List\nitems:\n  - apiVersion: weft.dev/v1\n    kind: Network\n    metadata: { name: k10 }\n    spec: { subnet: 10.20.0.0/33 }\n`, problems: [['7:21', '/items/0/spec/subnet', /"10\.20\.0\.0\/33" is not a valid IPv4 network/]] },

  // --- unknown and misspelled fields ---
  { name: 'misspelled spec field', files: net('u1', '  subnett: 10.20.0.0/24\n'), problems: [['5:1', '/spec/subnet', /required field "subnet" is missing/], ['6:3', '/spec/subnett', /unknown field "subnett" \(did you mean "subnet"\?\) \(allowed: subnet, gateway, subnet6, gateway6, mtu, vni, blockSize\)/]] },
  { name: 'misspelled metadata field', files: net('u2').replace('  name: u2\n', '  name: u2\n  lables: { a: b }\n'), problems: [['5:3', '/metadata/lables', /unknown field "lables" \(did you mean "labels"\?\)/]] },
  { name: 'misspelled top-level field', files: net('u3').replace('spec:', 'specs:'), problems: [['1:1', '/spec', /required field "spec" is missing/], ['5:1', '/specs', /unknown field "specs" \(did you mean "spec"\?\) \(allowed: apiVersion, kind, metadata, spec, status\)/]] },
  { name: 'misspelled gateway', files: net('u4', '  subnet: 10.20.0.0/24\n  gatway: 10.20.0.1\n'), problems: [['7:3', '/spec/gatway', /unknown field "gatway" \(did you mean "gateway"\?\)/]] },
  { name: 'endpoint field in the wrong case', files: ep('u5').replace('containerId', 'containerID'), problems: [['5:1', '/spec/containerId', /required field "containerId" is missing/], ['8:3', '/spec/containerID', /unknown field "containerID" \(did you mean "containerId"\?\)/]] },
  { name: 'endpoint with ifName', files: ep('u6').replace('ifname', 'ifName'), problems: [['5:1', '/spec/ifname', /required field "ifname" is missing/], ['9:3', '/spec/ifName', /unknown field "ifName" \(did you mean "ifname"\?\)/]] },
  { name: 'host with adress', files: host('u7', '  adress: 10.0.0.21\n'), problems: [['6:3', '/spec/adress', /unknown field "adress" \(did you mean "address"\?\) \(allowed: address, maxEndpoints\)/]] },
  { name: 'a field that belongs to another kind', files: net('u8', '  subnet: 10.20.0.0/24\n  containerId: abc\n'), problems: [['7:3', '/spec/containerId', /unknown field "containerId" \(allowed: subnet, /]] },

  // --- wrong types ---
  { name: 'subnet as a number', files: net('t1', '  subnet: 10\n'), problems: [['6:11', '/spec/subnet', /must be string, got number 10/]] },
  { name: 'mtu as a string', files: net('t2', '  subnet: 10.20.0.0/24\n  mtu: "1400"\n'), problems: [['7:8', '/spec/mtu', /must be integer, got string "1400"/]] },
  { name: 'blockSize not a whole number', files: net('t3', '  subnet: 10.20.0.0/24\n  blockSize: 26.5\n'), problems: [['7:14', '/spec/blockSize', /must be integer, got number 26\.5/]] },
  { name: 'labels as a list', files: net('t4').replace('  name: t4\n', '  name: t4\n  labels: [a, b]\n'), problems: [['5:11', '/metadata/labels', /must be object, got array/]] },
  { name: 'metadata as a string', files: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata: t5\nspec:\n  subnet: 10.20.0.0/24\n', problems: [['3:11', '/metadata', /must be object, got string "t5"/]] },
  { name: 'spec as a list', files: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: t6\nspec:\n  - subnet: 10.20.0.0/24\n', problems: [['6:3', '/spec', /must be object, got array/]] },
  { name: 'a label value that YAML reads as a number', files: net('t7').replace('  name: t7\n', '  name: t7\n  labels:\n    tier: 1\n'), problems: [['6:11', '/metadata/labels/tier', /must be string, got number 1/]] },
  { name: 'vni as a boolean', files: net('t8', '  subnet: 10.20.0.0/24\n  vni: yes\n'), problems: [['7:8', '/spec/vni', /must be integer, got string "yes"/]] },
  { name: 'endpoint ip as a list', files: ep('t9', '  ip: [10.10.1.50]\n'), problems: [['10:7', '/spec/ip', /must be string, got array/]] },
  { name: 'endpoint with no spec fields', files: 'apiVersion: weft.dev/v1\nkind: Endpoint\nmetadata:\n  name: t10\nspec: {}\n', problems: [['5:1', '/spec/network', /required field "network" is missing/], ['5:1', '/spec/host', /required field "host" is missing/], ['5:1', '/spec/containerId', /required field "containerId" is missing/], ['5:1', '/spec/ifname', /required field "ifname" is missing/]] },

  // --- invalid CIDRs, addresses and names ---
  { name: 'subnet with host bits', files: net('c1', '  subnet: 10.20.0.1/24\n'), problems: [['6:11', '/spec/subnet', /"10\.20\.0\.1\/24" is not a valid IPv4 network: host bits are set.*10\.20\.0\.0\/24/]] },
  { name: 'prefix length 33', files: net('c2', '  subnet: 10.20.0.0/33\n'), problems: [['6:11', '/spec/subnet', /"10\.20\.0\.0\/33" is not a valid IPv4 network/]] },
  { name: 'a /31 network', files: net('c3', '  subnet: 10.20.0.0/31\n'), problems: [['6:11', '/spec/subnet', /prefix length \/31 is not allowed for a network \(allowed: \/8 to \/30/]] },
  { name: 'an octet over 255', files: net('c4', '  subnet: 10.300.0.0/16\n'), problems: [['6:11', '/spec/subnet', /"10\.300\.0\.0\/16" is not a valid IPv4 network/]] },
  { name: 'subnet without a prefix length', files: net('c5', '  subnet: 10.20.0.0\n'), problems: [['6:11', '/spec/subnet', /"10\.20\.0\.0" is not a valid IPv4 network/]] },
  { name: 'an IPv6 subnet in subnet', files: net('c6', '  subnet: fd00::/64\n'), problems: [['6:11', '/spec/subnet', /"fd00::\/64" is not a valid IPv4 network/]] },
  { name: 'gateway outside the subnet', files: net('c7', '  subnet: 10.20.0.0/24\n  gateway: 10.21.0.1\n'), problems: [['7:12', '/spec/gateway', /gateway 10\.21\.0\.1 is not a usable address of 10\.20\.0\.0\/24 \(allowed: 10\.20\.0\.1 - 10\.20\.0\.254\)/]] },
  { name: 'gateway is the network address', files: net('c8', '  subnet: 10.20.0.0/24\n  gateway: 10.20.0.0\n'), problems: [['7:12', '/spec/gateway', /gateway 10\.20\.0\.0 is not a usable address/]] },
  { name: 'blockSize larger than the subnet', files: net('c9', '  subnet: 10.20.0.0/24\n  blockSize: 22\n'), problems: [['7:14', '/spec/blockSize', /block \/22 is larger than the subnet \/24 \(allowed: \/24 to \/30\)/]] },
  { name: 'mtu below the minimum', files: net('c10', '  subnet: 10.20.0.0/24\n  mtu: 100\n'), problems: [['7:8', '/spec/mtu', /must be >= 1280, got 100 \(allowed: 1280 to 9000\)/]] },
  { name: 'vni beyond 24 bits', files: net('c11', '  subnet: 10.20.0.0/24\n  vni: 16777216\n'), problems: [['7:8', '/spec/vni', /must be <= 16777215, got 16777216 \(allowed: 1 to 16777215\)/]] },
  { name: 'gateway6 without subnet6', files: net('c12', '  subnet: 10.20.0.0/24\n  gateway6: fd00::1\n'), problems: [['7:13', '/spec/gateway6', /gateway6 needs subnet6/]] },
  { name: 'a bad IPv6 subnet', files: net('c13', '  subnet: 10.20.0.0/24\n  subnet6: fd00::zz/64\n'), problems: [['7:12', '/spec/subnet6', /"fd00::zz\/64" is not a valid IPv6 network/]] },
  { name: 'a subnet6 with fewer addresses than the subnet', files: net('c13b', '  subnet: 10.20.0.0/16\n  subnet6: fd00:13::/120\n'), problems: [['7:12', '/spec/subnet6', /subnet6 \/120 has fewer addresses than subnet \/16.*\(allowed: \/48 to \/112\)/]] },
  { name: 'network name with capitals and _', files: net('Has_Caps'), problems: [['4:9', '/metadata/name', DNS_LABEL]] },
  { name: 'network name of 64 characters', files: net('n'.repeat(64)), problems: [['4:9', '/metadata/name', /length must be at most 63, got 64/]] },
  { name: 'a dotted network name', files: net('web.v2'), problems: [['4:9', '/metadata/name', /"web\.v2" has an invalid format .*allowed: lowercase letters/]] },
  { name: 'empty name', files: net('""'), problems: [['4:9', '/metadata/name', /must not be empty \(allowed: lowercase letters/]] },
  { name: 'endpoint ifname over 15 bytes', files: ep('c18').replace('ifname: eth0', 'ifname: this-is-too-long'), problems: [['9:11', '/spec/ifname', /"this-is-too-long" has an invalid format \(allowed: 1-15 characters/]] },
  { name: 'endpoint ip with an octet over 255', files: ep('c19', '  ip: 10.10.1.300\n'), problems: [['10:7', '/spec/ip', /"10\.10\.1\.300" is not an IPv4 address/]] },
  { name: 'a multicast MAC', files: ep('c20', '  mac: 01:00:5e:00:00:01\n'), problems: [['10:8', '/spec/mac', /01:00:5e:00:00:01 is a multicast MAC/]] },
  { name: 'a malformed MAC', files: ep('c21', '  mac: 02:00:5e:00:01\n'), problems: [['10:8', '/spec/mac', /"02:00:5e:00:01" has an invalid format \(allowed: six hex octets/]] },
  { name: 'a label key with a space', files: net('c22').replace('  name: c22\n', '  name: c22\n  labels:\n    "bad key": x\n'), problems: [['6:5', '/metadata/labels/bad key', /label key "bad key" has an invalid format \(allowed: label keys/]] },
  { name: 'a label value over 63 characters', files: net('c23').replace('  name: c23\n', `  name: c23\n  labels:\n    tier: ${'v'.repeat(64)}\n`), problems: [['6:11', '/metadata/labels/tier', /length must be at most 63, got 64/]] },
  { name: 'host maxEndpoints of 0', files: host('c24', '  maxEndpoints: 0\n'), problems: [['6:17', '/spec/maxEndpoints', /must be >= 1, got 0/]] },

  // --- checks only the controller can make (references, overlaps, concurrency), mapped back to the file ---
  { name: 'endpoint on a network that does not exist', files: ep('r1', '', 'nowhere'), problems: [['6:12', '/spec/network', /network "nowhere" does not exist/]] },
  { name: 'endpoint address outside its network', files: ep('r2', '  ip: 10.10.2.50\n'), problems: [['10:7', '/spec/ip', /^10\.10\.2\.50 is outside network "web" \(10\.10\.1\.0\/24\) \(allowed: 10\.10\.1\.2 - 10\.10\.1\.254\)$/]] },
  { name: 'endpoint address declared for another endpoint', files: ep('r3', '  ip: 10.10.1.10\n'), problems: [['10:7', '/spec/ip', /10\.10\.1\.10 on network "web" is (taken|already declared).*web-1/]] },
  { name: 'endpoint address is the gateway', files: ep('r4', '  ip: 10.10.1.1\n'), problems: [['10:7', '/spec/ip', /^10\.10\.1\.1 is the gateway of network "web"/]] },
  { name: 'network overlapping an existing one', files: net('r5', '  subnet: 10.10.1.128/25\n'), problems: [['6:11', '/spec/subnet', /10\.10\.1\.128\/25 overlaps network "web" \(10\.10\.1\.0\/24\)/]] },
  {
    name: 'a stale resourceVersion: 409 naming what changed',
    files: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: web\n  resourceVersion: "1"\n  labels: { app: shop, tier: web }\nspec:\n  subnet: 10.10.1.0/24\n  mtu: 1400\n',
    problems: [['6:3', '/metadata/labels/owner', /the stored object has a different value$/], ['9:8', '/spec/mtu', /not set in the stored object \(got 1400\)/]],
    error: /^error: Network "web" changed since resourceVersion 1: it is now at resourceVersion \d+ .*differs from yours in \/metadata\/labels\/owner, \/spec\/mtu\. Read it again and redo your change; nothing was applied$/,
  },
  { name: 'a good network with an endpoint on a missing one: neither applies', files: `${net('r7')}---\n${ep('r7-ep', '', 'r7x')}`, problems: [['13:12', '/spec/network', /network "r7x" does not exist/]] },
  { name: 'two new networks that overlap each other', files: `${net('r8a', '  subnet: 10.30.0.0/16\n')}---\n${net('r8b', '  subnet: 10.30.5.0/24\n')}`, problems: [['13:11', '/spec/subnet', /10\.30\.5\.0\/24 overlaps network "r8a"/]] },

  // --- firewall policies: semantic checks (model/firewall-validate.ts) and schema messages ---
  { name: 'policy kind misspelled', files: fwp('f1', fwRule('')).replace('kind: FirewallPolicy', 'kind: FirewalPolicy'), problems: [['2:7', '/kind', /unknown kind "FirewalPolicy" \(did you mean "FirewallPolicy"\?\)/]] },
  { name: 'peer cidr with host bits', files: fwp('f2', fwRule('        from:\n          - cidr: 10.0.0.5/24\n')), problems: [['10:19', '/spec/ingress/rules/0/from/0/cidr', /"10\.0\.0\.5\/24" is not a network address: host bits are set; write 10\.0\.0\.0\/24 .*\(allowed: 10\.0\.0\.0\/24\)$/]] },
  { name: 'peer cidr that is not a CIDR', files: fwp('f3', fwRule('        from:\n          - cidr: 10.0.0/8\n')), problems: [['10:19', '/spec/ingress/rules/0/from/0/cidr', /"10\.0\.0\/8" is not a valid IPv4 CIDR: write an address and a prefix length, e\.g\. 10\.0\.0\.0\/24/]] },
  { name: 'except entry outside its cidr', files: fwp('f4', fwRule('        from:\n          - cidr: 10.0.0.0/16\n            except: [10.0.128.0/17, 10.1.0.0/24]\n')), problems: [['11:37', '/spec/ingress/rules/0/from/0/except/1', /10\.1\.0\.0\/24 is not inside the peer's cidr 10\.0\.0\.0\/16: .*\(allowed: CIDRs inside 10\.0\.0\.0\/16\)/]] },
  { name: 'except without cidr', files: fwp('f5', fwRule('        from:\n          - selector: { tier: web }\n            except: [10.0.0.0/8]\n')), problems: [['11:21', '/spec/ingress/rules/0/from/0/except', /except needs cidr: .*add cidr \(0\.0\.0\.0\/0 for every address\) or remove except/]] },
  { name: 'a peer with cidr and network', files: fwp('f6', fwRule('        from:\n          - cidr: 10.0.0.0/8\n            network: web\n')), problems: [['10:19', '/spec/ingress/rules/0/from/0/cidr', /a peer is either endpoints \(selector and\/or network\) or addresses \(cidr\), not both/]] },
  { name: 'an empty peer', files: fwp('f7', fwRule('        from:\n          - {}\n')), problems: [['10:13', '/spec/ingress/rules/0/from/0', /an empty peer matches nothing: .*leave "from" out of the rule/]] },
  { name: 'ports without a protocol', files: fwp('f8', fwRule('        ports: [80]\n')), problems: [['9:16', '/spec/ingress/rules/0/ports', /ports need protocol tcp or udp \(this rule's protocol is any, the default\): add `protocol: tcp`/]] },
  { name: 'ports with protocol icmp', files: fwp('f9', fwRule('        protocol: icmp\n        ports: [80]\n')), problems: [['10:16', '/spec/ingress/rules/0/ports', /this rule's protocol is icmp\): add `protocol: tcp`/]] },
  { name: 'a port range that ends before it starts', files: fwp('f10', fwRule('        protocol: tcp\n        ports: [22, "9000-8000"]\n')), problems: [['10:21', '/spec/ingress/rules/0/ports/1', /port "9000-8000" is out of range: the range starts after it ends \(9000 > 8000\): write 8000-9000/]] },
  { name: 'a port range past 65535', files: fwp('f11', fwRule('        protocol: udp\n        ports: ["60000-70000"]\n')), problems: [['10:17', '/spec/ingress/rules/0/ports/0', /port "60000-70000" is out of range: ports are 1 to 65535/]] },
  { name: 'a port that is not a port', files: fwp('f12', fwRule('        protocol: tcp\n        ports: [http]\n')), problems: [['10:17', '/spec/ingress/rules/0/ports/0', /"http" has an invalid format \(allowed: a port \(80\), a range \("8000-8080"\) or, in rules, a port set \("@web"\)\)/]] },
  {
    name: 'an undefined port set, with a suggestion',
    files: fwp('f13', `  portSets:\n    web: [80, 443]\n${fwRule('        protocol: tcp\n        ports: ["@wbe"]\n')}`),
    problems: [['12:17', '/spec/ingress/rules/0/ports/0', /port set "@wbe" is not defined in spec\.portSets \(did you mean "@web"\?\) \(allowed: @web\)/]],
  },
  { name: 'a port set that refers to another', files: fwp('f14', '  portSets:\n    web: [80]\n    all: ["@web", 22]\n'), problems: [['8:11', '/spec/portSets/all/0', /port set "all" refers to port set "@web"; port sets hold ports and ranges only/]] },
  { name: 'a port set name with capitals', files: fwp('f15', '  portSets:\n    Web: [80]\n'), problems: [['7:5', '/spec/portSets/Web', /port set name "Web" has an invalid format/]] },
  { name: 'two rules of one direction with one name', files: fwp('f16', '  ingress:\n    rules:\n      - name: ssh\n        action: allow\n      - name: ssh\n        action: deny\n'), problems: [['10:15', '/spec/ingress/rules/1/name', /rule name "ssh" is used twice in ingress \(also \/spec\/ingress\/rules\/0\): rule names must be unique within a direction/]] },
  { name: 'a rule action that does not exist', files: fwp('f17', '  ingress:\n    rules:\n      - action: permit\n'), problems: [['8:17', '/spec/ingress/rules/0/action', /must be one of allow, deny, reject, log, got string "permit" \(allowed: allow, deny, reject, log\)/]] },
  { name: '"to" in an ingress rule', files: fwp('f18', fwRule('        to:\n          - cidr: 10.0.0.0/8\n')), problems: [['9:9', '/spec/ingress/rules/0/to', /unknown field "to": ingress rules take "from"; "to" belongs in egress rules/]] },
  {
    name: 'more than 20000 rules in one policy',
    files: fwp('f19', `  ingress:\n    rules: ${flowRules(10_001)}\n  egress:\n    rules: ${flowRules(10_000)}\n`),
    problems: [['9:12', '/spec/egress/rules', /the policy has 20001 rules \(ingress 10001 \+ egress 10000\), more than 20000 in all: split it into several policies/]],
  },
  {
    name: 'a policy with a shape error and a semantic one: both reported, in reading order',
    files: fwp('f20', `  colour: red\n${fwRule('        from:\n          - cidr: 10.0.0.5/24\n')}`),
    problems: [['6:3', '/spec/colour', /unknown field "colour"/], ['11:19', '/spec/ingress/rules/0/from/0/cidr', /host bits are set; write 10\.0\.0\.0\/24/]],
  },

  // --- routers: model/router-validate.ts, controller/resources/router-checks.ts ---
  { name: 'router kind misspelled', files: rt('g1').replace('kind: Router', 'kind: Routr'), problems: [['2:7', '/kind', /unknown kind "Routr" \(did you mean "Router"\?\)/]] },
  { name: 'a router on a host that does not exist', files: rt('g2', '', ['web', 'app'], 'node-z'), problems: [['6:9', '/spec/host', /host "node-z" does not exist \(known hosts: node-a, node-b, node-c\); start its agent or declare the Host first/]] },
  { name: 'a router with no interface', files: rt('g3', '', []).replace('  interfaces:\n', '  interfaces: []\n'), problems: [['7:15', '/spec/interfaces', /at least 1/]] },
  { name: 'a router interface on a network twice', files: rt('g4', '', ['web', 'web']), problems: [['9:16', '/spec/interfaces/1/network', /network "web" is listed twice \(also \/spec\/interfaces\/0\): the router has one interface per network; remove one/]] },
  { name: 'a router interface on a network that does not exist', files: rt('g5', '', ['web', 'nowhere']), problems: [['9:16', '/spec/interfaces/1/network', /network "nowhere" does not exist/]] },
  { name: 'a router interface address that is IPv6', files: rt('g6', '', ['web']).replace('    - network: web\n', '    - network: web\n      ip: fd00::1\n'), problems: [['9:11', '/spec/interfaces/0/ip', /"fd00::1" is not an IPv4 address \(IPv6 on router interfaces is not supported yet\)/]] },
  { name: 'a static route via an address on no connected network', files: rt('g7', '  routes:\n    - to: 192.0.2.0/24\n      via: 10.10.3.254\n'), problems: [['12:12', '/spec/routes/0/via', /next hop 10\.10\.3\.254 is on none of the connected networks \(web 10\.10\.1\.0\/24, app 10\.10\.2\.0\/24\); give an address on one of them, or connect its network/]] },
  { name: 'a static route to a connected network', files: rt('g8', '  routes:\n    - to: 10.10.1.0/25\n      via: 10.10.2.5\n'), problems: [['11:11', '/spec/routes/0/to', /10\.10\.1\.0\/25 overlaps connected network "web" \(10\.10\.1\.0\/24\): the router reaches it directly/]] },
  { name: 'an IPv6 static route', files: rt('g9', '  routes:\n    - to: "2001:db8::/32"\n      via: 10.10.1.5\n'), problems: [['11:11', '/spec/routes/0/to', /IPv6 routes are not supported yet/]] },
  { name: 'a default route as a static route', files: rt('g10', '  routes:\n    - to: 0.0.0.0/0\n      via: 10.10.1.5\n'), problems: [['11:11', '/spec/routes/0/to', /a default route is not a static route here: give the router external/]] },
  { name: 'a destination routed twice', files: rt('g11', '  routes:\n    - {to: 192.0.2.0/24, via: 10.10.1.5}\n    - {to: 192.0.2.0/24, via: 10.10.1.6}\n'), problems: [['12:', '/spec/routes/1/to', /destination 192\.0\.2\.0\/24 is routed twice \(also \/spec\/routes\/0\); keep one/]] },
  { name: 'external mode interface without interface, address and gateway', files: rt('g12', '  external:\n    mode: interface\n'), problems: [['11:', '/spec/external', /mode interface needs external\.interface, external\.address, external\.gateway: the host interface whose segment the router joins/]] },
  { name: 'an external mode that does not exist', files: rt('g13', '  external:\n    mode: hots\n'), problems: [['11:11', '/spec/external/mode', /host, interface/]] },
  { name: 'external.address in mode host', files: rt('g14', '  external:\n    mode: host\n    address: 203.0.113.10/24\n'), problems: [['12:14', '/spec/external/address', /external\.address belongs to mode: interface; remove it, or set mode: interface/]] },
  { name: 'snat: false in mode host', files: rt('g15', '  external:\n    snat: false\n'), problems: [['11:11', '/spec/external/snat', /snat: false is not supported in mode host/]] },
  { name: 'floating IPs in mode host', files: rt('g16', '  external: {}\n  floatingIPs:\n    - {address: 203.0.113.20, endpoint: web-1}\n'), problems: [['12:', '/spec/floatingIPs', /floating IPs are extra addresses on the router's own external segment, which only external mode: interface has \(this router has mode host\); set external: \{mode: interface, interface, address, gateway\}, or reach the endpoint from outside with portForwards/]] },
  { name: 'a port forward without external', files: rt('g17', '  portForwards:\n    - {protocol: tcp, port: 8080, to: {endpoint: web-1, port: 80}}\n'), problems: [['11:', '/spec/portForwards', /this router has no external: add external: \{mode: host\}, or remove portForwards/]] },
  { name: 'a port published twice', files: rt('g18', '  external: {}\n  portForwards:\n    - {protocol: tcp, port: 8080, to: {endpoint: web-1}}\n    - {protocol: tcp, port: 8080, to: {endpoint: app-1}}\n'), problems: [['13:', '/spec/portForwards/1/port', /tcp\/8080 is published twice \(also \/spec\/portForwards\/0\)/]] },
  { name: 'a port forward to an endpoint that does not exist', files: rt('g19', '  external: {}\n  portForwards:\n    - {protocol: tcp, port: 8080, to: {endpoint: web-9}}\n'), problems: [['12:', '/spec/portForwards/0/to/endpoint', /endpoint "web-9" does not exist; attach it first/]] },
  { name: 'a port forward to an endpoint on no connected network', files: rt('g20', '  external: {}\n  portForwards:\n    - {protocol: tcp, port: 5432, to: {endpoint: db-primary}}\n'), problems: [['12:', '/spec/portForwards/0/to/endpoint', /endpoint "db-primary" is on network "db", which this router does not connect \(web, app\); add an interface on "db"/]] },
  { name: 'a port forward for sctp', files: rt('g21', '  external: {}\n  portForwards:\n    - {protocol: sctp, port: 9, to: {endpoint: web-1}}\n'), problems: [['12:', '/spec/portForwards/0/protocol', /tcp, udp/]] },
  { name: 'a published port past 65535', files: rt('g22', '  external: {}\n  portForwards:\n    - {protocol: tcp, port: 70000, to: {endpoint: web-1}}\n'), problems: [['12:', '/spec/portForwards/0/port', /must be <= 65535, got 70000/]] },
  { name: 'a misspelled router field', files: rt('g23', '  portForward: []\n'), problems: [['10:3', '/spec/portForward', /unknown field "portForward" \(did you mean "portForwards"\?\)/]] },
  { name: 'a router gateway outside its external subnet', files: rt('g28', `${SEG}`.replace('gateway: 203.0.113.1', 'gateway: 198.51.100.1')), problems: [['10:', '/spec/external/gateway', /gateway 198\.51\.100\.1 is not a host address of the external subnet 203\.0\.113\.0\/24 \(from external\.address\)/]] },
  { name: "a router's way out on one of weft's own links", files: rt('g39', `${SEG}`.replace('interface: eth1', 'interface: wb-00000a')), problems: [['10:', '/spec/external/interface', /"wb-00000a" is named like weft's own links \(a bridge\): the router's way out sits on a host interface outside weft/]] },
  { name: 'a router external address without a prefix length', files: rt('g29', `${SEG}`.replace('203.0.113.10/24', '203.0.113.10')), problems: [['10:', '/spec/external/address', /"203\.0\.113\.10" is not an IPv4 address with a prefix length; write the router's address on the segment and the segment's length/]] },
  { name: 'a floating IP outside the external subnet', files: rt('g30', `${SEG}  floatingIPs:\n    - {address: 198.51.100.20, endpoint: web-1}\n`), problems: [['12:', '/spec/floatingIPs/0/address', /floating IP 198\.51\.100\.20 is outside the external subnet 203\.0\.113\.0\/24 \(from external\.address\)/]] },
  { name: "a floating IP that is the router's own address", files: rt('g31', `${SEG}  floatingIPs:\n    - {address: 203.0.113.10, endpoint: web-1}\n`), problems: [['12:', '/spec/floatingIPs/0/address', /floating IP 203\.0\.113\.10 is the router's own address \(external\.address\)/]] },
  { name: 'a floating IP used twice', files: rt('g32', `${SEG}  floatingIPs:\n    - {address: 203.0.113.20, endpoint: web-1}\n    - {address: 203.0.113.20, endpoint: app-1}\n`), problems: [['13:', '/spec/floatingIPs/1/address', /floating IP 203\.0\.113\.20 is used twice \(also \/spec\/floatingIPs\/0\)/]] },
  { name: 'a floating IP to an endpoint on no connected network', files: rt('g33', `${SEG}  floatingIPs:\n    - {address: 203.0.113.20, endpoint: db-primary}\n`), problems: [['12:', '/spec/floatingIPs/0/endpoint', /endpoint "db-primary" is on network "db", which this router does not connect \(web, app\); add an interface on "db" or map the address to another endpoint/]] },
  { name: 'a floating IP to an endpoint that does not exist', files: rt('g34', `${SEG}  floatingIPs:\n    - {address: 203.0.113.20, endpoint: web-9}\n`), problems: [['12:', '/spec/floatingIPs/0/endpoint', /endpoint "web-9" does not exist; attach it first/]] },
  { name: 'a floating IP without external', files: rt('g35', '  floatingIPs:\n    - {address: 203.0.113.20, endpoint: web-1}\n'), problems: [['11:', '/spec/floatingIPs', /\(this router has no external\)/]] },
  { name: 'an external subnet overlapping a connected network', files: rt('g36', `${SEG}`.replace('203.0.113.10/24', '10.10.0.10/16').replace('203.0.113.1}', '10.10.0.1}')), problems: [['10:', '/spec/external/address', /the external subnet 10\.10\.0\.0\/16 overlaps connected network "web" \(10\.10\.1\.0\/24\)/]] },
  {
    name: 'two routers answering for one external address: 409 naming both, nothing applied',
    files: `${rt('g37', SEG, ['web'])}---\n${rt('g38', `${SEG}`.replace('203.0.113.10/24', '203.0.113.11/24').replace('}\n', '}\n  floatingIPs:\n    - {address: 203.0.113.10, endpoint: db-primary}\n'), ['db'], 'node-b')}`,
    problems: [],
    error: /external address 203\.0\.113\.10 already belongs to router "g37"; router "g38" cannot answer for it too/,
  },
  {
    name: 'two routers giving one network a way out: 409 naming both, nothing applied',
    files: `${rt('g24', '  external: {}\n')}---\n${rt('g25', '  external: {}\n', ['web', 'db'], 'node-b')}`,
    problems: [],
    error: /network "web" already has a way out through router "g24"; router "g25" cannot give it another/,
  },
  {
    name: 'two routers publishing one port on one host: 409 naming both, nothing applied',
    files: `${rt('g26', '  external: {}\n  portForwards:\n    - {protocol: tcp, port: 8080, to: {endpoint: web-1}}\n', ['web'])}---\n${rt('g27', '  external: {}\n  portForwards:\n    - {protocol: tcp, port: 8080, to: {endpoint: db-primary}}\n', ['db'])}`,
    problems: [],
    error: /tcp\/8080 on host "node-a" is already published by router "g26"; router "g27" needs another port/,
  },

  // --- duplicates ---
  { name: 'the same network twice in one file', files: `${net('d1')}---\n${net('d1', '  subnet: 10.21.0.0/24\n')}`, problems: [['11:9', '/metadata/name', /duplicate Network "d1": first defined at .*a\.yaml:4:9/]] },
  { name: 'the same endpoint in two files', files: { 'a.yaml': ep('d2'), 'b.yaml': ep('d2') }, problems: [['b.yaml:4:9', '/metadata/name', /duplicate Endpoint "d2": first defined at .*a\.yaml:4:9/]] },
  { name: 'a name used by an example already, twice in the file', files: `${net('web', '  subnet: 10.10.1.0/24\n')}---\n${net('web', '  subnet: 10.10.1.0/24\n')}`, problems: [['11:9', '/metadata/name', /duplicate Network "web"/]] },

  // --- several errors at once ---
  {
    name: 'several errors in several documents, all reported in reading order',
    files: `${net('m1', '  subnet: 10.20.0.1/24\n  colour: red\n')}---\n${net('M2', '  subnet: 10.21.0.0/24\n  mtu: 99999\n')}---\n${ep('m3').replace('ifname: eth0', 'ifname: eth0-is-far-too-long')}`,
    problems: [
      ['6:11', '/spec/subnet', /host bits are set/],
      ['7:3', '/spec/colour', /unknown field "colour"/],
      ['12:9', '/metadata/name', DNS_LABEL],
      ['15:8', '/spec/mtu', /must be <= 9000, got 99999/],
      ['25:11', '/spec/ifname', /has an invalid format/],
    ],
    error: /^error: 5 problems in 1 file; nothing was applied$/,
  },
  {
    name: 'errors in two files',
    files: { 'a.yaml': net('m4', '  subnet: 10.20.0.0/33\n'), 'b.yaml': host('m5', '  maxEndpoints: -1\n') },
    problems: [['6:11', '/spec/subnet', /not a valid IPv4 network/], ['b.yaml:6:17', '/spec/maxEndpoints', /must be >= 1, got -1/]],
    error: /^error: 2 problems in 2 files; nothing was applied$/,
  },
];

// --- size and depth ---
const FIVE_MB = 5 * 1024 * 1024;
cases.push(
  {
    name: 'a 5 MB document with one huge unknown field',
    files: net('big1', `  subnet: 10.20.0.0/24\n  notes: ${'x'.repeat(FIVE_MB)}\n`),
    problems: [['7:3', '/spec/notes', /unknown field "notes"/]],
  },
  (() => {
    // Long label keys (a 248-character DNS prefix) keep the label count, and so the parse time, modest.
    const prefix = `${'p'.repeat(240)}.example`;
    const n = Math.ceil(FIVE_MB / 320);
    const bad = n - 10;
    const labels = Array.from({ length: n }, (_, i) => `    ${prefix}/k${i}: ${i === bad ? 'bad value!' : `value-${i}`.padEnd(60, 'x')}\n`).join('');
    const col = 5 + `${prefix}/k${bad}: `.length;
    return {
      name: 'a 5 MB document of labels with one bad label near the end',
      files: net('big2').replace('  name: big2\n', `  name: big2\n  labels:\n${labels}`),
      problems: [[`${6 + bad}:${col}`, `/metadata/labels/${prefix}~1k${bad}`, /"bad value!" has an invalid format/]] as Expected[],
    };
  })(),
  {
    name: 'a 5 MB string where the subnet goes',
    files: net('big3', `  subnet: "${'1'.repeat(FIVE_MB)}"\n`),
    problems: [['6:11', '/spec/subnet', /"1{20,60}… \(\d+ characters\)" is not a valid IPv4 network|is not a valid IPv4 network/]],
  },
  {
    name: 'deeply nested junk in flow style',
    files: net('deep1', `  subnet: 10.20.0.0/24\n  junk: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`),
    problems: [['7:', 'YAML', /nesting is too deep/]],
  },
  {
    name: 'deeply nested junk in block style',
    files: net('deep2', `  subnet: 10.20.0.0/24\n  junk:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(2 * i + 4)}a:`).join('\n')} 1\n`),
    problems: [['', 'YAML', /nesting is too deep/]],
  },
  {
    name: 'moderately nested junk that parses: reported as one unknown field',
    files: net('deep3', `  subnet: 10.20.0.0/24\n  junk: ${'{a: '.repeat(200)}1${'}'.repeat(200)}\n`),
    problems: [['7:3', '/spec/junk', /unknown field "junk"/]],
  },
);

const PROBLEM = /^(.+?):(\d+):(\d+): (\/.*?|YAML): (.*)$/;

describe('weft apply: the bad-input corpus', () => {
  let ctl: Awaited<ReturnType<typeof controllerWithCli>>;
  let dir: string;
  beforeAll(async () => {
    ctl = await controllerWithCli();
    dir = mkdtempSync(join(tmpdir(), 'weft-bad-'));
    const r = await ctl.weft('apply', '-f', EXAMPLES);
    expect(r.code).toBe(0);
    // Someone relabels web after the examples went in: resourceVersion "1" is stale from here on.
    const relabel = await ctl.call('PUT', '/api/v1/networks/web', { metadata: { name: 'web', labels: { app: 'shop', tier: 'web', owner: 'ops' } }, spec: { subnet: '10.10.1.0/24' } });
    expect(relabel.status).toBe(200);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ctl.close();
  });

  test('the corpus holds at least 60 malformed inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  test.each(cases.map((c, i) => [i, c.name, c] as const))('%d %s', async (i, _name, c) => {
    const caseDir = join(dir, String(i));
    mkdirSync(caseDir);
    const files = typeof c.files === 'string' ? { 'a.yaml': c.files } : c.files;
    const paths = Object.entries(files).map(([name, text]) => {
      const p = join(caseDir, name);
      writeFileSync(p, text);
      return p;
    });
    const before = storeDump(ctl);

    const r = await ctl.weft('apply', ...paths.flatMap((p) => ['-f', p]));

    expect(r.out).toBe('');
    expect(r.code).toBe(c.code ?? 1);
    const lines = r.err.trimEnd().split('\n');
    const last = lines.pop() ?? '';
    expect(last).toMatch(c.error ?? /^error: /);
    const got = lines.map((line) => {
      const m = PROBLEM.exec(line);
      return m ? { file: m[1], at: `${m[2]}:${m[3]}`, path: m[4], message: m[5], line } : { line };
    });
    expect(got.map((g) => g.line)).toHaveLength(c.problems.length);
    c.problems.forEach(([at, path, message], k) => {
      const g = got[k] as { file?: string; at?: string; path?: string; message?: string; line: string };
      const inOther = /^[a-z]+\.yaml:/.exec(at);
      const file = join(caseDir, inOther ? (inOther[0].slice(0, -1)) : 'a.yaml');
      const pos = inOther ? at.slice(inOther[0].length) : at;
      expect(g.file).toBe(file);
      // '' leaves the position free; 'N:' fixes the line only.
      if (pos.endsWith(':')) expect(`${g.at}`.startsWith(pos)).toBe(true);
      else if (pos !== '') expect(`${g.line}\n${g.at}`).toBe(`${g.line}\n${pos}`);
      expect(`${g.line}\n${g.path}`).toBe(`${g.line}\n${path}`);
      expect(g.message).toMatch(message);
      // A 5 MB value must not come back as a 5 MB error line.
      expect(g.line.length).toBeLessThan(800);
    });
    expect(storeDump(ctl)).toBe(before);
  });
});
