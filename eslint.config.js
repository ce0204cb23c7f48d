// ESLint flat config: typescript-eslint's recommended rules plus the
// dependency direction of ARCHITECTURE.md, enforced with
// no-restricted-imports.
//
// The boundaries are written per folder depth, because an import is a
// relative path: from model/x.ts the controller is "../controller/...",
// from agents/datapath/netlink/x.ts it is "../../../controller/...". The
// regexes only match paths that climb exactly to the project root, so an
// agents/ file importing its own agents/datapath/ is never caught by
// mistake.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const MAX_DEPTH = 6;

/** folder -> top-level folders it must never import (and why). */
const BOUNDARIES = {
  model: ['sys', 'controller', 'agents', 'vnf', 'runtime', 'cli', 'test'],
  // Thin bindings to Linux system calls, shared by agents/ and runtime/.
  sys: ['controller', 'agents', 'vnf', 'runtime', 'cli', 'test'],
  controller: ['sys', 'agents', 'vnf', 'runtime', 'cli', 'test'],
  agents: ['controller', 'runtime', 'cli', 'test'],
  vnf: ['sys', 'controller', 'agents', 'runtime', 'cli', 'test'],
  runtime: ['controller', 'agents', 'vnf', 'cli', 'test'],
  cli: ['test'],
};

/**
 * agents/datapath/ exports ports (port.ts, *-port.ts, errors.ts, the
 * process supervisor and policy model vocabularies); its implementations
 * (netlink/, nft/, nflog/, process/, the fakes, bridge-netfilter.ts) are
 * chosen by the composition root, agents/main.ts, alone.
 */
const DATAPATH_IMPL = { regex: '(^|/)datapath/(netlink|nft|nflog|process)/|(^|/)datapath/(fake-[^/]*|bridge-netfilter)(\\.js)?$', message: 'agents/ imports the datapath ports only (agents/datapath/*-port.ts, port.ts); implementations are bound in agents/main.ts' };
const DATAPATH_IMPL_FREE = ['agents/main.ts', 'agents/datapath/**/*.ts'];

/** Only the netlink datapath talks rtnetlink; everything else goes through agents/datapath/port.ts. */
const NETLINK_ONLY_IN = 'agents/datapath/netlink';
const NETLINK_PATHS = [{ name: 'netlink', message: `only ${NETLINK_ONLY_IN}/ may import netlink: use the DatapathFactory port (agents/datapath/port.ts)` }];
const NETLINK_PATTERNS = [{ group: ['netlink/*'], message: `only ${NETLINK_ONLY_IN}/ may import netlink` }];

function restriction(folder, depth, forbidden, allowNetlink, datapathPorts = false) {
  const up = '\\.\\./'.repeat(depth);
  const patterns = [
    {
      regex: `^${up}(${forbidden.join('|')})(/|$)`,
      message: `${folder}/ must not import ${forbidden.join(', ')} (see ARCHITECTURE.md, "Layout and dependency direction")`,
    },
    ...(datapathPorts ? [DATAPATH_IMPL] : []),
  ];
  return allowNetlink ? { patterns } : { paths: NETLINK_PATHS, patterns: [...patterns, ...NETLINK_PATTERNS] };
}

/** One config per folder and depth; later configs replace a rule's options, so the netlink folder comes last. */
function boundaryConfigs() {
  const configs = [];
  for (const [folder, forbidden] of Object.entries(BOUNDARIES)) {
    for (let depth = 1; depth <= MAX_DEPTH; depth++) {
      configs.push({
        name: `weft/boundaries/${folder}/depth-${depth}`,
        files: [`${folder}/${'*/'.repeat(depth - 1)}*.ts`],
        ...(folder === 'agents' ? { ignores: DATAPATH_IMPL_FREE } : {}),
        rules: { 'no-restricted-imports': ['error', restriction(folder, depth, forbidden, false, folder === 'agents')] },
      });
    }
  }
  // The composition root and the datapath itself may name datapath implementations.
  configs.push({ name: 'weft/boundaries/agents-main', files: ['agents/main.ts'], rules: { 'no-restricted-imports': ['error', restriction('agents', 1, BOUNDARIES.agents, false)] } });
  for (let depth = 2; depth <= MAX_DEPTH; depth++) {
    configs.push({
      name: `weft/boundaries/agents-datapath/depth-${depth}`,
      files: [`agents/datapath/${'*/'.repeat(depth - 2)}*.ts`],
      rules: { 'no-restricted-imports': ['error', restriction('agents', depth, BOUNDARIES.agents, false)] },
    });
  }
  const netlinkDepth = NETLINK_ONLY_IN.split('/').length;
  // A file directly in agents/datapath/netlink/ sits three levels down.
  for (let depth = netlinkDepth; depth <= MAX_DEPTH; depth++) {
    configs.push({
      name: `weft/boundaries/netlink-datapath/depth-${depth}`,
      files: [`${NETLINK_ONLY_IN}/${'*/'.repeat(depth - netlinkDepth)}*.ts`],
      rules: { 'no-restricted-imports': ['error', restriction('agents', depth, BOUNDARIES.agents, true)] },
    });
  }
  return configs;
}

/** Names the browser defines, for the web console's code (no `globals` package here: the few it uses). */
const BROWSER_GLOBALS = Object.fromEntries(
  [
    'window', 'document', 'navigator', 'location', 'history', 'sessionStorage', 'localStorage', 'fetch', 'WebSocket', 'CSS',
    'requestAnimationFrame', 'cancelAnimationFrame', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask',
    'HTMLElement', 'HTMLInputElement', 'HTMLSelectElement', 'HTMLButtonElement', 'HTMLAnchorElement', 'Element', 'Node', 'Event',
    'KeyboardEvent', 'EventListener', 'console',
  ].map((name) => [name, 'readonly']),
);

/**
 * controller/console/ is browser code bundled by esbuild: browser globals,
 * and it may import model/ and itself only (nothing of the Node
 * controller, no Node built-ins). Last, so its import rule replaces the
 * controller/ one for these files.
 */
function consoleConfigs() {
  return [
    { name: 'weft/console/globals', files: ['controller/console/**/*.ts'], languageOptions: { globals: BROWSER_GLOBALS } },
    {
      name: 'weft/console/boundaries',
      files: ['controller/console/**/*.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              { regex: '^\\.\\./\\.\\./(?!model/)', message: 'the console (browser code) may import model/ only, not the rest of the project' },
              { regex: '^\\.\\./(?!\\.\\./)', message: 'the console is browser code: it must not import the Node controller' },
              { regex: '^node:', message: 'the console runs in a browser: no Node built-ins' },
            ],
          },
        ],
      },
    },
  ];
}

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', '.weft/**'] },
  tseslint.configs.recommended,
  {
    name: 'weft/typescript',
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    name: 'weft/tests',
    files: ['test/**/*.ts'],
    rules: {
      // Tests reach into objects and fakes freely.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  boundaryConfigs(),
  consoleConfigs(),
);
