import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_USAGE } from '../../../cli/cli-error.js';
import { DEFAULT_SERVER, resolveClientConfig } from '../../../cli/client-config.js';

describe('client configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-cfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to the local controller and no token', () => {
    expect(resolveClientConfig({}, {}, dir)).toEqual({ server: DEFAULT_SERVER, token: undefined, tokenSource: 'none' });
  });

  it('takes WEFT_SERVER and WEFT_TOKEN, flags win over them', () => {
    writeFileSync(join(dir, 'tok'), 'from-file\n');
    expect(resolveClientConfig({}, { WEFT_SERVER: 'http://h:1', WEFT_TOKEN: 'from-env' }, dir)).toMatchObject({ server: 'http://h:1', token: 'from-env' });
    expect(resolveClientConfig({ server: 'http://f:2', tokenFile: 'tok' }, { WEFT_SERVER: 'http://h:1', WEFT_TOKEN: 'from-env' }, dir)).toMatchObject({
      server: 'http://f:2',
      token: 'from-file',
      tokenSource: join(dir, 'tok'),
    });
  });

  it('finds ./.weft/admin.token', () => {
    mkdirSync(join(dir, '.weft'));
    writeFileSync(join(dir, '.weft', 'admin.token'), ' abc \n');
    expect(resolveClientConfig({}, {}, dir)).toMatchObject({ token: 'abc', tokenSource: join(dir, '.weft', 'admin.token') });
  });

  it('explains a bad WEFT_SERVER as a usage error and a missing token file as a user error', () => {
    const bad = (() => {
      try {
        resolveClientConfig({}, { WEFT_SERVER: 'localhost:7400' }, dir);
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toMatchObject({ exitCode: EXIT_USAGE, message: expect.stringMatching(/^WEFT_SERVER "localhost:7400": /) });
    expect(() => resolveClientConfig({ tokenFile: 'missing' }, {}, dir)).toThrow(/cannot read token file .*missing \(ENOENT\)/);
  });
});
