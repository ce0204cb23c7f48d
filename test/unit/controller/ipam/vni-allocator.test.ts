import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTO_VNI_START, assignVni, pickVni } from '../../../../controller/ipam/vni-allocator.js';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';
import { WeftError } from '../../../../model/errors.js';

describe('VNI allocation', () => {
  test('pickVni starts at 4096, skips taken ones, falls back below the start, and runs out', () => {
    expect(pickVni(new Set())).toBe(AUTO_VNI_START);
    expect(pickVni(new Set([4096, 4097]))).toBe(4098);
    expect(pickVni(new Set([8, 9, 10]), 8, 10)).toBe(1);
    expect(pickVni(new Set([1, 2, 3]), 2, 3)).toBeUndefined();
  });

  test('each network gets a unique VNI, kept on later writes', () => {
    const store = new SqliteStore(':memory:');
    const vnis = store.write((tx) => ['a', 'b', 'c'].map((n) => assignVni(tx, n, undefined)));
    expect(new Set(vnis).size).toBe(3);
    expect(store.write((tx) => assignVni(tx, 'b', undefined))).toBe(vnis[1]);
    store.close();
  });

  test('spec.vni is honoured when free and refused (Overlap) when another network has it', () => {
    const store = new SqliteStore(':memory:');
    store.write((tx) => assignVni(tx, 'a', 100));
    const auto = store.write((tx) => assignVni(tx, 'b', undefined));
    let err: unknown;
    try {
      store.write((tx) => assignVni(tx, 'c', auto));
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeftError);
    expect((err as WeftError).code).toBe('Overlap');
    expect((err as WeftError).message).toContain('"b"');
    expect(store.read((r) => r.getVni('a'))).toBe(100);
    store.close();
  });

  test('VNIs are stable across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-vni-'));
    try {
      const s1 = new SqliteStore(join(dir, 'weft.db'));
      const before = s1.write((tx) => ['a', 'b'].map((n) => assignVni(tx, n, undefined)));
      s1.close();
      const s2 = new SqliteStore(join(dir, 'weft.db'));
      expect(s2.write((tx) => ['a', 'b'].map((n) => assignVni(tx, n, undefined)))).toEqual(before);
      expect(s2.write((tx) => assignVni(tx, 'c', undefined))).not.toBe(before[0]);
      s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
