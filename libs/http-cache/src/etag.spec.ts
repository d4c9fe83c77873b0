import { ifNoneMatch, strongEtag } from './etag';

describe('strongEtag / ifNoneMatch', () => {
  const etag = strongEtag(Buffer.from('{"a":1}'));

  it('gives the same strong tag for the same bytes, another for other bytes', () => {
    expect(etag).toBe(strongEtag(Buffer.from('{"a":1}')));
    expect(etag).not.toBe(strongEtag(Buffer.from('{"a":2}')));
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
  });

  it.each([
    [etag, true],
    [`W/${etag}`, true],
    [` "x" ,W/"y",  ${etag}`, true],
    ['*', true],
    ['"x", "y"', false],
    ['"x,y"', false],
    [etag.slice(1, -1), false],
    [`"${etag}`, false],
    ['', false],
    ['*, "x"', false],
  ])('If-None-Match %j → %s', (header, matches) => {
    expect(ifNoneMatch(header, etag)).toBe(matches);
  });

  it('ignores a missing or oversized header', () => {
    expect(ifNoneMatch(undefined, etag)).toBe(false);
    expect(ifNoneMatch(`${'"x", '.repeat(3000)}${etag}`, etag)).toBe(false);
  });
});
