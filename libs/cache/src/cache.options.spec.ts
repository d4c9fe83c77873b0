import { resolveCacheOptions } from './cache.options';
import { CacheArgumentError } from './cache.errors';

describe(resolveCacheOptions.name, () => {
  it('applies the documented jitter default and keeps a given one', () => {
    expect(resolveCacheOptions({}).ttlJitter).toBe(0.1);
    expect(resolveCacheOptions({ ttlJitter: 0 }).ttlJitter).toBe(0);
    expect(resolveCacheOptions({ ttlJitter: 1 }).ttlJitter).toBe(1);
  });

  it.each([-0.1, 1.01, Number.NaN])('refuses a ttlJitter of %p at boot', (ttlJitter) => {
    expect(() => resolveCacheOptions({ ttlJitter })).toThrow(CacheArgumentError);
  });
});
