import { Reflector } from '@nestjs/core';

type Target = object;
/** A sentinel for "looked up, and nothing there" (metadata can legitimately be `undefined`). */
const NONE = Symbol('none');

/**
 * A `Reflector` whose `getAllAndOverride` remembers its answers. Route
 * metadata is fixed once the app is built, and the guards of every request
 * ask the same handful of questions per route (is it public, which roles,
 * which throttlers to skip, which limits): `reflect-metadata` answers each by
 * walking prototype chains, which was 5 % of an authenticated request's CPU.
 * Entries hang off the handler and class objects (`WeakMap`), so the cache is
 * bounded by the routes and keys asked about.
 */
export class CachedReflector extends Reflector {
  private readonly cache = new WeakMap<Target, WeakMap<Target, Map<unknown, unknown>>>();

  override getAllAndOverride<TResult = unknown>(key: unknown, targets: Array<Target | undefined>): TResult {
    const [first, second] = targets;
    if (targets.length !== 2 || !first || !second) return super.getAllAndOverride(key as string, targets as never);
    let byClass = this.cache.get(first);
    if (!byClass) this.cache.set(first, (byClass = new WeakMap()));
    let byKey = byClass.get(second);
    if (!byKey) byClass.set(second, (byKey = new Map()));
    let value = byKey.get(key);
    if (value === undefined) {
      value = super.getAllAndOverride(key as string, targets as never) ?? NONE;
      byKey.set(key, value);
    }
    return (value === NONE ? undefined : value) as TResult;
  }
}
