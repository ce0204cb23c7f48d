import { KeyedMutex } from '../../../../agents/endpoints/keyed-mutex.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('KeyedMutex', () => {
  test('runs one job per key at a time, in order, and different keys concurrently', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const job = (key: string, id: string, ms: number) =>
      m.run(key, async () => {
        log.push(`start ${id}`);
        await sleep(ms);
        log.push(`end ${id}`);
        return id;
      });
    const results = await Promise.all([job('a', 'a1', 20), job('a', 'a2', 1), job('b', 'b1', 5)]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    expect(m.isLocked('a')).toBe(false);
  });

  test('a failing job releases the key', async () => {
    const m = new KeyedMutex();
    await expect(m.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await m.run('a', async () => 1)).toBe(1);
    expect(m.isLocked('a')).toBe(false);
  });
});
