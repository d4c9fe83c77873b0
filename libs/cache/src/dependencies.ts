import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a computation read through the cache: the tags of every `getOrSet`
 * it made (whatever the outcome: L1 hit, L2 hit or load) and the shortest
 * TTL among them. A value built from those reads is invalidated by the same
 * tags and should live no longer than they do: the HTTP cache stores a
 * response with exactly that.
 */
export interface CacheDependencySet {
  /** The tags as the reads declared them (not made safe; the cache does that when storing). */
  readonly tags: ReadonlySet<string>;
  /** The shortest numeric TTL (ms) among the reads; `Infinity` when none declared one. */
  readonly minTtlMs: number;
  /** Reads made with tags. */
  readonly reads: number;
}

class Collector implements CacheDependencySet {
  readonly tags = new Set<string>();
  minTtlMs = Number.POSITIVE_INFINITY;
  reads = 0;

  constructor(private readonly parent: Collector | undefined) {}

  add(tags: readonly string[], ttlMs: number | undefined): void {
    for (const tag of tags) this.tags.add(tag);
    if (ttlMs !== undefined && ttlMs < this.minTtlMs) this.minTtlMs = ttlMs;
    this.reads++;
    this.parent?.add(tags, ttlMs);
  }
}

const storage = new AsyncLocalStorage<Collector>();

/**
 * Scopes running now. When none is, the storage is disabled: on Node 20 an
 * enabled AsyncLocalStorage makes every promise of the process pay its
 * hooks (about 0.45 µs each, `npm run bench:als`), and a response served
 * from the cache must not pay for the loads that filled it.
 */
let running = 0;

/**
 * Dependency tracking for values built from cached reads. `track(fn)` runs
 * `fn` in a scope (AsyncLocalStorage, so it follows every await inside it)
 * and returns what it read; the cache calls `record` on every tagged read.
 * Scopes nest: a read inside an inner scope counts for the outer ones too.
 *
 * Only reads through the cache are seen. A value that also depends on a
 * database read made around the cache must declare that dependency itself.
 */
export const CacheDependencies = {
  /** Runs `fn`, collecting the tags and TTLs of the cached reads it makes. */
  async track<T>(fn: () => Promise<T> | T): Promise<{ value: T; dependencies: CacheDependencySet }> {
    const collector = new Collector(storage.getStore());
    running++;
    try {
      const value = await storage.run(collector, fn);
      return { value, dependencies: collector };
    } finally {
      if (--running === 0) storage.disable();
    }
  },

  /** Notes a read with these tags (and TTL) in the current scope, if there is one. */
  record(tags: readonly string[] | undefined, ttlMs?: number): void {
    const collector = storage.getStore();
    if (collector && tags && tags.length > 0) collector.add(tags, ttlMs);
  },

  /** True inside `track`. */
  get active(): boolean {
    return storage.getStore() !== undefined;
  },
};
