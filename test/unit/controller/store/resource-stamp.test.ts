import { differingFields } from '../../../../controller/resources/write-guards.js';
import { stampResource } from '../../../../controller/store/resource-stamp.js';
import { network } from '../support/harness.js';

describe('stampResource', () => {
  const now = () => new Date('2030-01-01T00:00:00Z');
  test('create sets uid, generation 1, creationTimestamp and the revision', () => {
    const out = stampResource(undefined, network('a', { subnet: '10.0.0.0/24' }), () => 5, now);
    expect(out.action).toBe('created');
    expect(out.resource.metadata).toMatchObject({ name: 'a', resourceVersion: '5', generation: 1, creationTimestamp: '2030-01-01T00:00:00.000Z' });
  });
  test('key order does not make a change; empty labels equal no labels', () => {
    const first = stampResource(undefined, network('a', { subnet: '10.0.0.0/24', mtu: 1400 }), () => 1).resource;
    let asked = false;
    const out = stampResource(first, network('a', { mtu: 1400, subnet: '10.0.0.0/24' }, {}), () => ((asked = true), 2));
    expect(out.action).toBe('unchanged');
    expect(asked).toBe(false);
  });
  test('client-sent server fields are replaced', () => {
    const doc = network('a', { subnet: '10.0.0.0/24' });
    doc.metadata.uid = 'mine';
    doc.metadata.generation = 99;
    const out = stampResource(undefined, doc, () => 1).resource;
    expect(out.metadata.uid).not.toBe('mine');
    expect(out.metadata.generation).toBe(1);
  });
});

describe('differingFields', () => {
  test('lists leaf paths with the stored value', () => {
    expect(differingFields({ a: 1, b: { c: 2, d: [1] } }, { a: 1, b: { c: 3, d: [1], e: 4 } }, '/spec')).toEqual([
      { path: '/spec/b/c', message: 'the stored object has a different value', value: 2 },
      { path: '/spec/b/e', message: 'not set in the stored object', value: undefined },
    ]);
  });
});
