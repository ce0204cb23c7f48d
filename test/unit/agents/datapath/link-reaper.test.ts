import { DatapathError } from '../../../../agents/datapath/errors.js';
import { LinkReaper } from '../../../../agents/datapath/netlink/link-reaper.js';

// A worker script that needs no kernel (see the fixture for what it does).
const FLAKY = new URL('./fixtures/flaky-reaper-worker.mjs', import.meta.url);

describe('LinkReaper', () => {
  let reaper: LinkReaper | undefined;

  afterEach(async () => {
    await reaper?.close();
    reaper = undefined;
  });

  test('answers each deletion from its thread', async () => {
    reaper = new LinkReaper('host', 1000, FLAKY);
    await expect(Promise.all([reaper.remove(5), reaper.remove(6), reaper.remove(7)])).resolves.toEqual([undefined, undefined, undefined]);
  });

  test('a lost thread fails the deletions it held (EIO), and the next deletion runs on a new thread', async () => {
    reaper = new LinkReaper('host', 1000, FLAKY);
    const held = reaper.remove(14); // never answered by the thread that dies
    const fatal = reaper.remove(13);
    await expect(fatal).rejects.toMatchObject({ errno: 'EIO' });
    await expect(held).rejects.toBeInstanceOf(DatapathError);
    await expect(reaper.remove(5)).resolves.toBeUndefined();
    await expect(reaper.remove(6)).resolves.toBeUndefined();
  });

  test('after close() a deletion is refused (EBADF) rather than left unanswered', async () => {
    reaper = new LinkReaper('host', 1000, FLAKY);
    await reaper.close();
    await expect(reaper.remove(5)).rejects.toMatchObject({ errno: 'EBADF' });
  });
});
