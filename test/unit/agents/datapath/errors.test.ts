// DatapathError: the one place node_netlink's error strings are parsed.
import {
  DatapathError,
  errnoName,
  fromErrno,
  fromNetlink,
  isAlreadyExists,
  isNotFound,
  isUnsupported,
} from '../../../../agents/datapath/errors.js';

describe('fromNetlink', () => {
  it('parses "Request rejected: EEXIST" into errno, says what was attempted, and keeps the cause', () => {
    const cause = new Error('Request rejected: EEXIST');
    const e = fromNetlink('create', 'bridge "wb-1a2b3c"', cause);
    expect(e).toBeInstanceOf(DatapathError);
    expect(e.message).toBe('create bridge "wb-1a2b3c": EEXIST');
    expect(e).toMatchObject({ op: 'create', object: 'bridge "wb-1a2b3c"', errno: 'EEXIST', cause });
  });

  it('names a numeric errno the way the kernel does (95 is EOPNOTSUPP, not ENOTSUP)', () => {
    expect(fromNetlink('create', 'x', new Error('Request rejected: -95')).errno).toBe('EOPNOTSUPP');
    expect(fromNetlink('create', 'x', new Error('Request rejected: ENOTSUP')).errno).toBe('EOPNOTSUPP');
    expect(errnoName(19)).toBe('ENODEV');
  });

  it("maps node_netlink's request timeout to ETIMEDOUT", () => {
    expect(fromNetlink('get', 'link "x"', new Error('Timeout has been reached')).errno).toBe('ETIMEDOUT');
  });

  it('takes `code` from Node system errors, also from another realm (plain objects)', () => {
    expect(fromNetlink('open', 'netns "/x"', { message: 'ENOENT: no such file', code: 'ENOENT' }).errno).toBe('ENOENT');
  });

  it('treats a RangeError from the codec as EINVAL (the kernel never saw the request)', () => {
    expect(fromNetlink('add', 'address', new RangeError('invalid IP address')).errno).toBe('EINVAL');
  });

  it('says EUNKNOWN for anything else, keeping it as the cause', () => {
    const e = fromNetlink('list', 'links', 'weird');
    expect(e.errno).toBe('EUNKNOWN');
    expect(e.cause).toBe('weird');
  });

  it('re-wraps a DatapathError from a lower step with the caller context, keeping errno', () => {
    const inner = new DatapathError('open', 'netns "/run/netns/x"', 'ENOENT');
    const outer = fromNetlink('create', 'veth "wv-1"', inner);
    expect(outer.message).toBe('create veth "wv-1": ENOENT');
    expect(outer.cause).toBe(inner);
    expect(fromNetlink('open', 'netns "/run/netns/x"', inner)).toBe(inner);
  });
});

describe('predicates', () => {
  it.each([
    ['ENODEV', true, false, false],
    ['ENOENT', true, false, false],
    ['ESRCH', true, false, false],
    ['EADDRNOTAVAIL', true, false, false],
    ['EEXIST', false, true, false],
    ['EOPNOTSUPP', false, false, true],
    ['EAFNOSUPPORT', false, false, true],
    ['EINVAL', false, false, false],
  ])('%s: notFound=%s alreadyExists=%s unsupported=%s', (errno, nf, ae, un) => {
    const e = new DatapathError('op', 'obj', errno);
    expect([e.isNotFound, e.isAlreadyExists, e.isUnsupported]).toEqual([nf, ae, un]);
    expect([isNotFound(e), isAlreadyExists(e), isUnsupported(e)]).toEqual([nf, ae, un]);
  });

  it('are false for anything that is not a DatapathError', () => {
    expect(isNotFound(new Error('Request rejected: ENODEV'))).toBe(false);
    expect(isAlreadyExists(undefined)).toBe(false);
  });

  it('fromErrno names a libc errno', () => {
    expect(fromErrno('mount', 'netns "x"', 1).message).toBe('mount netns "x": EPERM');
  });
});
