/**
 * Concurrent calls for one key share one execution: the first caller runs
 * `fn`, the others receive its promise. The entry is removed when it settles,
 * so a failure is not cached.
 */
export class SingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  /** Number of keys being loaded right now. */
  get size(): number {
    return this.inFlight.size;
  }

  /** True while a call for `key` is running. */
  has(key: string): boolean {
    return this.inFlight.has(key);
  }

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing as Promise<T>;
    const promise = Promise.resolve()
      .then(fn)
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }
}
