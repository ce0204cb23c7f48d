import { parseWatchRequest } from '../../../../controller/watch/watch-request.js';

describe('parseWatchRequest', () => {
  test.each([
    { text: '{"type":"ping"}', want: { type: 'ping' } },
    { text: '{"type":"auth","token":"t"}', want: { type: 'auth', token: 't' } },
    { text: '{"type":"auth","token":"t","since":"abc.5"}', want: { type: 'auth', token: 't', since: 'abc.5' } },
    { text: '{"type":"ping","later":"ignored"}', want: { type: 'ping' } },
  ])('reads $text', ({ text, want }) => {
    expect(parseWatchRequest(text)).toEqual(want);
  });

  test.each([
    { name: 'text that is not JSON', text: 'not json', code: 'BadJSON', message: /must be JSON/ },
    { name: 'an array', text: '[1]', code: 'Invalid', message: /JSON object/ },
    { name: 'null', text: 'null', code: 'Invalid', message: /JSON object/ },
    { name: 'an unknown type', text: '{"type":"subscribe"}', code: 'Invalid', message: /unknown watch message type "subscribe"/ },
    { name: 'auth without a token', text: '{"type":"auth"}', code: 'Invalid', message: /needs a "token"/ },
    { name: 'auth with an empty token', text: '{"type":"auth","token":""}', code: 'Invalid', message: /needs a "token"/ },
    { name: 'a token that is no string', text: '{"type":"auth","token":5}', code: 'Invalid', message: /"token" must be a string/ },
    { name: 'a since that is no string', text: '{"type":"auth","token":"t","since":7}', code: 'Invalid', message: /"since" must be a string/ },
    { name: 'a token of 2000 characters', text: JSON.stringify({ type: 'auth', token: 'x'.repeat(2000) }), code: 'Invalid', message: /at most 1024/ },
  ])('refuses $name', ({ text, code, message }) => {
    expect(() => parseWatchRequest(text)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });
});
