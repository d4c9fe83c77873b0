import { Controller, Get } from '@nestjs/common';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import { CachedReflector } from '../guards/cached-reflector';
import { THROTTLER_METADATA } from './rate-limit.guard';

const SKIP_GENERAL_KEY = THROTTLER_METADATA.skip;

@Controller()
@SkipThrottle()
class Skipped {
  @Get()
  route(): void {}
}

@Controller()
class Counted {
  @Get()
  route(): void {}

  @Get('tuned')
  @Throttle({ default: { limit: 1, ttl: 1000, blockDuration: 5, getTracker: () => 'x', generateKey: () => 'k' } })
  tuned(): void {}
}

describe('RateLimitGuard', () => {
  it('reads the key @SkipThrottle() writes (the library does not export it)', () => {
    const reflector = new CachedReflector();
    expect(reflector.getAllAndOverride(SKIP_GENERAL_KEY, [Skipped.prototype.route, Skipped])).toBe(true);
    expect(reflector.getAllAndOverride(SKIP_GENERAL_KEY, [Counted.prototype.route, Counted])).toBeUndefined();
  });

  it('reads every key @Throttle() writes for the general throttler (a route with overrides goes to the library)', () => {
    const reflector = new CachedReflector();
    for (const key of THROTTLER_METADATA.overrides) {
      expect({
        key,
        tuned: reflector.getAllAndOverride(key, [Counted.prototype.tuned, Counted]) !== undefined,
      }).toEqual({
        key,
        tuned: true,
      });
      expect(reflector.getAllAndOverride(key, [Counted.prototype.route, Counted])).toBeUndefined();
    }
  });
});

describe(CachedReflector.name, () => {
  it('answers like Reflector, remembering per handler and class (a later lookup of the same pair is cached)', () => {
    const reflector = new CachedReflector();
    const spy = jest.spyOn(Reflect, 'getMetadata');
    const first = reflector.getAllAndOverride(SKIP_GENERAL_KEY, [Skipped.prototype.route, Skipped]);
    const calls = spy.mock.calls.length;
    expect(reflector.getAllAndOverride(SKIP_GENERAL_KEY, [Skipped.prototype.route, Skipped])).toBe(first);
    expect(reflector.getAllAndOverride('missing', [Skipped.prototype.route, Skipped])).toBeUndefined();
    expect(reflector.getAllAndOverride('missing', [Skipped.prototype.route, Skipped])).toBeUndefined();
    const afterMissing = spy.mock.calls.length;
    reflector.getAllAndOverride('missing', [Skipped.prototype.route, Skipped]);
    expect(spy.mock.calls.length).toBe(afterMissing);
    expect(calls).toBeGreaterThan(0);
    spy.mockRestore();
  });
});
