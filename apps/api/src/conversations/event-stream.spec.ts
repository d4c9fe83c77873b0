import { wantsEventStream } from './event-stream';

describe(wantsEventStream.name, () => {
  it.each([
    ['text/event-stream', true],
    ['application/json, text/event-stream', true],
    ['text/event-stream;q=0.9', true],
    ['TEXT/EVENT-STREAM', true],
    [undefined, false],
    ['application/json', false],
    ['*/*', false],
    ['text/event-streamx', false],
  ])('%s → %s', (accept, expected) => {
    expect(wantsEventStream(accept)).toBe(expected);
  });
});
