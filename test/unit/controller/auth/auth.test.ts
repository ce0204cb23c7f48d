import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearerMatches, bearerToken } from '../../../../controller/auth/bearer.js';
import { ensureTokens } from '../../../../controller/auth/token-files.js';

describe('token files', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'weft-tokens-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('first start writes two distinct 32-byte hex tokens, 0600, in a 0700 directory', () => {
    const dir = join(root, 'data');
    const t = ensureTokens(dir);
    expect(t.admin).toMatch(/^[0-9a-f]{64}$/);
    expect(t.agent).toMatch(/^[0-9a-f]{64}$/);
    expect(t.admin).not.toBe(t.agent);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'admin.token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'agent.token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'admin.token'), 'utf8').trim()).toBe(t.admin);
  });

  test('later starts reuse the tokens and tighten loose permissions', () => {
    const t1 = ensureTokens(root);
    chmodSync(join(root, 'admin.token'), 0o644);
    const t2 = ensureTokens(root);
    expect(t2).toEqual(t1);
    expect(statSync(join(root, 'admin.token')).mode & 0o777).toBe(0o600);
  });

  test('a file that is not a token is an error, not silently replaced', () => {
    writeFileSync(join(root, 'admin.token'), 'hello\n', { mode: 0o600 });
    expect(() => ensureTokens(root)).toThrow(/admin\.token/);
  });
});

describe('bearer checks', () => {
  test.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc  ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
  ])('%j -> %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  test('only an accepted token matches', () => {
    expect(bearerMatches('Bearer s3cret', ['other', 's3cret'])).toBe(true);
    expect(bearerMatches('Bearer s3cre', ['s3cret'])).toBe(false);
    expect(bearerMatches(undefined, ['s3cret'])).toBe(false);
    expect(bearerMatches('Bearer ', [''])).toBe(false);
  });
});
