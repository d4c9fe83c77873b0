import type { GetOrSetOptions, SetOptions } from './cache-entry';
import type { TieredCache } from './tiered-cache';

/**
 * The cache seen through one namespace: `cache.namespace('users')` or
 * `@InjectCache('users')`. Keys are plain strings (use `buildKey` for
 * composite ones); the namespace is part of the Redis key and an implicit tag.
 */
export class NamespacedCache {
  constructor(
    protected readonly tiered: TieredCache,
    readonly name: string,
  ) {}

  get<T>(key: string): Promise<T | undefined> {
    return this.tiered.get<T>(this.name, key);
  }

  has(key: string): Promise<boolean> {
    return this.tiered.has(this.name, key);
  }

  mget<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    return this.tiered.mget<T>(this.name, keys);
  }

  set<T>(key: string, value: T, options?: SetOptions<T>): Promise<void> {
    return this.tiered.set(this.name, key, value, options);
  }

  mset<T>(entries: ReadonlyArray<{ key: string; value: T; options?: SetOptions<T> }>): Promise<void> {
    return this.tiered.mset(this.name, entries);
  }

  /** Deletes one key or several, on every instance. */
  delete(keys: string | readonly string[]): Promise<void> {
    return this.tiered.delete(this.name, typeof keys === 'string' ? [keys] : keys);
  }

  getOrSet<T>(key: string, loader: () => Promise<T> | T, options?: GetOrSetOptions<T>): Promise<T> {
    return this.tiered.getOrSet(this.name, key, loader, options);
  }

  /** Invalidates every entry with one of the tags (in any namespace). */
  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.tiered.invalidateTags(tags);
  }

  /** Invalidates every entry of this namespace, on every instance. */
  clear(): Promise<void> {
    return this.tiered.clearNamespace(this.name);
  }
}
