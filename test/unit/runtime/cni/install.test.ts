import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { renderConflist } from '../../../../model/cni/cni-conflist.js';
import { installConflist, installShim } from '../../../../runtime/cni/install.js';
import { parseChain, parseCniVersion } from '../../../../cli/commands/install-cni.js';
import { WeftError } from '../../../../model/errors.js';

describe('install-cni', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-install-cni-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('installShim copies the shim as BIN_DIR/weft, executable, and leaves no temp file', async () => {
    const shim = join(dir, 'weft-cni');
    writeFileSync(shim, '#!/bin/sh\necho v1\n');
    const bin = join(dir, 'opt/cni/bin');
    expect(await installShim(bin, shim)).toEqual({ path: join(bin, 'weft'), changed: true });
    expect(readFileSync(join(bin, 'weft'), 'utf8')).toBe('#!/bin/sh\necho v1\n');
    expect(statSync(join(bin, 'weft')).mode & 0o777).toBe(0o755);
    expect(await installShim(bin, shim)).toEqual({ path: join(bin, 'weft'), changed: false });
    writeFileSync(shim, '#!/bin/sh\necho v2\n');
    expect((await installShim(bin, shim)).changed).toBe(true);
    expect(readFileSync(join(bin, 'weft'), 'utf8')).toContain('v2');
    expect(readdirSync(bin)).toEqual(['weft']);
  });

  test('installShim says how to build a missing shim', async () => {
    await expect(installShim(join(dir, 'bin'), join(dir, 'missing'))).rejects.toThrow(/npm run build/);
    await expect(installShim(join(dir, 'bin'), join(dir, 'missing'))).rejects.toBeInstanceOf(WeftError);
  });

  test('renderConflist: weft first with its capabilities, then the chained reference plugins', () => {
    expect(renderConflist({ network: 'blue' })).toEqual({
      cniVersion: '1.0.0',
      name: 'blue',
      plugins: [{ type: 'weft', network: 'blue', capabilities: { ips: true, mac: true } }],
    });
    expect(renderConflist({ network: 'red', cniVersion: '1.1.0', socket: '/run/lab/h1.sock', chain: ['portmap', 'bandwidth', 'tuning'] })).toEqual({
      cniVersion: '1.1.0',
      name: 'red',
      plugins: [
        { type: 'weft', network: 'red', capabilities: { ips: true, mac: true }, agentSocket: '/run/lab/h1.sock' },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
        { type: 'tuning' },
      ],
    });
    // the default socket is not written: the plugin's default is the same
    expect(renderConflist({ network: 'x', socket: '/run/weft/agent.sock' }).plugins).toEqual([{ type: 'weft', network: 'x', capabilities: { ips: true, mac: true } }]);
  });

  test('installConflist writes CONF_DIR/weft-NET.conflist once', async () => {
    const conf = join(dir, 'net.d');
    const first = await installConflist(conf, { network: 'blue', chain: ['portmap'] });
    expect(first).toEqual({ path: join(conf, 'weft-blue.conflist'), changed: true });
    expect(JSON.parse(readFileSync(first.path, 'utf8'))).toEqual(renderConflist({ network: 'blue', chain: ['portmap'] }));
    expect((await installConflist(conf, { network: 'blue', chain: ['portmap'] })).changed).toBe(false);
    expect((await installConflist(conf, { network: 'blue' })).changed).toBe(true);
  });

  test('installConflist refuses a conf dir that is a file', async () => {
    writeFileSync(join(dir, 'file'), '');
    await expect(installConflist(join(dir, 'file'), { network: 'blue' })).rejects.toThrow(/CNI config dir/);
  });

  test('flag parsers', () => {
    expect(parseChain('portmap, tuning')).toEqual(['portmap', 'tuning']);
    expect(parseChain('')).toEqual([]);
    expect(() => parseChain('portmap,flannel')).toThrow(InvalidArgumentError);
    expect(() => parseChain('portmap,portmap')).toThrow(/once/);
    expect(parseCniVersion('1.1.0')).toBe('1.1.0');
    expect(() => parseCniVersion('0.3.1')).toThrow(/0.4.0, 1.0.0, 1.1.0/);
  });
});
