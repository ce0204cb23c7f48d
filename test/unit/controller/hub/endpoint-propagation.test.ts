import { jest } from '@jest/globals';
import { EndpointPropagation, type PropagationOutcome } from '../../../../controller/hub/endpoint-propagation.js';

describe('EndpointPropagation', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const applied = (m: Record<string, number>) => (h: string) => m[h];

  test('answers once every host has applied the revision, in any order; reports of older revisions do not count', () => {
    const p = new EndpointPropagation(1000);
    const answers: PropagationOutcome[] = [];
    p.wait(5, ['h2', 'h3'], applied({ h2: 4, h3: 4 }), (o) => answers.push(o));
    p.applied('h3', 5);
    p.applied('h2', 4);
    expect(answers).toEqual([]);
    p.applied('h2', 6);
    expect(answers).toEqual([{ hosts: ['h2', 'h3'], late: [] }]);
    expect(p.size).toBe(0);
  });

  test('hosts that applied it already, or none at all, mean an answer at once', () => {
    const p = new EndpointPropagation(1000);
    const answers: PropagationOutcome[] = [];
    p.wait(5, ['h2'], applied({ h2: 5 }), (o) => answers.push(o));
    p.wait(5, [], applied({}), (o) => answers.push(o));
    expect(answers).toEqual([{ hosts: ['h2'], late: [] }, { hosts: [], late: [] }]);
  });

  test('past the bound, or when a host goes away, the answer names the late hosts; it is given once', () => {
    const p = new EndpointPropagation(1000);
    const answers: PropagationOutcome[] = [];
    p.wait(5, ['h2', 'h3', 'h4'], applied({}), (o) => answers.push(o));
    p.applied('h2', 5);
    p.gone('h3');
    expect(answers).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(answers).toEqual([{ hosts: ['h2'], late: ['h3', 'h4'] }]);
    p.applied('h4', 5);
    jest.advanceTimersByTime(5000);
    expect(answers).toHaveLength(1);
  });

  test('flush answers every wait now', () => {
    const p = new EndpointPropagation(1000);
    const answers: PropagationOutcome[] = [];
    p.wait(5, ['h2'], applied({}), (o) => answers.push(o));
    p.flush();
    expect(answers).toEqual([{ hosts: [], late: ['h2'] }]);
    expect(p.size).toBe(0);
  });
});
