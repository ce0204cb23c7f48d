// NftRunner without root and without nft: `binary` points at a shell script
// standing in for nft, which records its argv, stdin and locale and then
// behaves as the test says. What the real nft answers is covered by the
// kernel test.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NftRunner } from '../../../../../agents/datapath/nft/nft-runner.js';
import { NftError } from '../../../../../agents/datapath/nft/nft-error.js';
import { renderIsolation } from '../../../../../agents/datapath/nft/isolation-ruleset.js';
import { DatapathError } from '../../../../../agents/datapath/errors.js';

let dir: string;
let nft: string;

/** The fake nft's behaviour after recording: a shell snippet. */
function behave(script: string): void {
  writeFileSync(join(dir, 'behaviour'), `${script}\n`);
}

function recorded(file: 'argv' | 'stdin' | 'lc_all'): string {
  return readFileSync(join(dir, file), 'utf8');
}

async function caught(p: Promise<unknown>): Promise<NftError> {
  try {
    await p;
  } catch (err: unknown) {
    if (err instanceof NftError) return err;
    throw err;
  }
  throw new Error('expected an NftError, the call succeeded');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-nft-runner-'));
  nft = join(dir, 'nft');
  writeFileSync(
    nft,
    [
      '#!/bin/sh',
      'dir=$(dirname "$0")',
      `printf '%s\\n' "$@" > "$dir/argv"`,
      // like nft: open /dev/stdin by path (fails on a socketpair), not just read fd 0
      'cat /dev/stdin > "$dir/stdin"',
      `printf '%s' "$LC_ALL" > "$dir/lc_all"`,
      '. "$dir/behaviour"',
      '',
    ].join('\n'),
  );
  chmodSync(nft, 0o755);
  behave('exit 0');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('NftRunner', () => {
  it('apply runs `nft -j -f -` with the document as JSON on stdin, in the C locale', async () => {
    const doc = renderIsolation(['wb-1']);
    await new NftRunner({ binary: nft }).apply(doc);
    expect(recorded('argv')).toBe('-j\n-f\n-\n');
    expect(JSON.parse(recorded('stdin'))).toEqual(doc);
    expect(recorded('lc_all')).toBe('C');
  });

  it('an nft refusal becomes an NftError with the errno from strerror and nft\'s stderr in the message', async () => {
    behave(`printf 'internal:0:0-0: Error: Could not process rule: No such file or directory\\n\\n' >&2; exit 1`);
    const err = await caught(new NftRunner({ binary: nft }).apply(renderIsolation([])));
    expect(err).toBeInstanceOf(DatapathError);
    expect(err).toMatchObject({ op: 'apply', object: 'nft table inet weft-isolation', errno: 'ENOENT' });
    expect(err.isNotFound).toBe(true);
    expect(err.message).toBe(
      'apply nft table inet weft-isolation: ENOENT: internal:0:0-0: Error: Could not process rule: No such file or directory',
    );
    expect(err.stderr).toContain('Could not process rule');
  });

  it('an error without a strerror (nft rejected the input) is EINVAL', async () => {
    behave(`echo "internal:0:0-0: Error: Unknown statement object 'bogus'." >&2; exit 1`);
    await expect(new NftRunner({ binary: nft }).apply(renderIsolation([]))).rejects.toMatchObject({ errno: 'EINVAL' });
  });

  it('kills nft after the timeout and reports ETIMEDOUT', async () => {
    behave('exec sleep 10');
    const err = await caught(new NftRunner({ binary: nft, timeoutMs: 150 }).apply(renderIsolation([])));
    expect(err.errno).toBe('ETIMEDOUT');
    expect(err.message).toContain('killed after 150 ms');
  });

  it('a missing nft binary is unsupported (ENOPKG), not "not found"', async () => {
    const err = await caught(new NftRunner({ binary: join(dir, 'no-such-nft') }).list('weft-isolation'));
    expect(err).toMatchObject({ errno: 'ENOPKG' });
    expect(err.isUnsupported).toBe(true);
    expect(err.isNotFound).toBe(false);
  });

  it('list runs `nft -j list table FAMILY NAME` and returns its objects without metainfo', async () => {
    behave(`echo '{"nftables": [{"metainfo": {"json_schema_version": 1}}, {"table": {"family": "inet", "name": "weft-x", "handle": 4}}]}'`);
    const listing = await new NftRunner({ binary: nft }).list('weft-x');
    expect(recorded('argv')).toBe('-j\nlist\ntable\ninet\nweft-x\n');
    expect(listing).toEqual([{ table: { family: 'inet', name: 'weft-x', handle: 4 } }]);
  });

  it('list of a table nft reports absent is undefined', async () => {
    behave(`printf 'Error: No such file or directory\\nlist table inet weft-x\\n                ^^^^^^\\n' >&2; exit 1`);
    await expect(new NftRunner({ binary: nft }).list('weft-x')).resolves.toBeUndefined();
  });

  it('list output that is not nft JSON is EPROTO', async () => {
    behave('echo not-json');
    await expect(new NftRunner({ binary: nft }).list('weft-x')).rejects.toMatchObject({ errno: 'EPROTO' });
  });

  it('deleteTable sends add + delete of the table in one transaction, so absence is no error', async () => {
    await new NftRunner({ binary: nft }).deleteTable('weft-x');
    expect(JSON.parse(recorded('stdin'))).toEqual({
      nftables: [{ add: { table: { family: 'inet', name: 'weft-x' } } }, { delete: { table: { family: 'inet', name: 'weft-x' } } }],
    });
  });

  it('a missing namespace fails as not found without running nft, and list does not mistake it for a missing table', async () => {
    const runner = new NftRunner({ binary: nft, netns: join(dir, 'no-such-netns') });
    await expect(runner.list('weft-x')).rejects.toMatchObject({ errno: 'ENOENT' });
    await expect(runner.apply(renderIsolation([]))).rejects.toMatchObject({ errno: 'ENOENT' });
    expect(() => recorded('argv')).toThrow();
  });
});
