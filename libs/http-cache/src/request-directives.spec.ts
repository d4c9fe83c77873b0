import { parseRequestDirectives } from './request-directives';

describe(parseRequestDirectives.name, () => {
  it.each([
    [undefined, undefined, { noStore: false, onlyIfCached: false }],
    ['no-store', undefined, { noStore: true, onlyIfCached: false }],
    ['No-Cache', undefined, { noStore: false, maxAge: 0, onlyIfCached: false }],
    ['max-age=60, only-if-cached', undefined, { noStore: false, maxAge: 60, onlyIfCached: true }],
    ['max-age="30"', undefined, { noStore: false, maxAge: 30, onlyIfCached: false }],
    ['max-age=-1, max-age=abc', undefined, { noStore: false, onlyIfCached: false }],
    ['max-age=60, no-cache', undefined, { noStore: false, maxAge: 0, onlyIfCached: false }],
    [undefined, 'no-cache', { noStore: false, maxAge: 0, onlyIfCached: false }],
    ['max-age=10', 'no-cache', { noStore: false, maxAge: 10, onlyIfCached: false }],
    ['max-stale, min-fresh=5, no-transform', undefined, { noStore: false, onlyIfCached: false }],
  ])('Cache-Control %j, Pragma %j', (cacheControl, pragma, expected) => {
    expect(parseRequestDirectives(cacheControl, pragma)).toEqual(expected);
  });

  it('reads an oversized header as no-store (it may have said so past the limit)', () => {
    const padded = `max-age=3600,${' '.repeat(2000)},no-store`;
    expect(parseRequestDirectives(padded)).toEqual({ noStore: true, onlyIfCached: false });
  });
});
