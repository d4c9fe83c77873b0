import type { IEventEmitter, KeyvStoreAdapter, StoredData } from 'keyv';

/** Runs one store call against Redis: under a deadline, and refused at once while Redis is known down. */
export type RedisGate = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * A Keyv store (here `@keyv/redis`) whose every Redis call goes through a
 * gate: the tiered cache's breaker and the command deadline. `@keyv/redis`
 * has no deadline of its own, so with Redis paused (SIGSTOP) a
 * `CACHE_MANAGER.get` would hang; through the gate it fails within one
 * deadline, and at once while the breaker is open. Keyv and cache-manager
 * turn those failures into misses (reads) and no-ops (writes).
 *
 * `disconnect` is not forwarded: the client belongs to `RedisConnection`,
 * which closes it at shutdown; `cache.disconnect()` must not close it under
 * the rest of the app.
 */
export class GuardedKeyvStore implements KeyvStoreAdapter {
  constructor(
    private readonly inner: KeyvStoreAdapter,
    private readonly gate: RedisGate,
  ) {}

  get opts(): unknown {
    return this.inner.opts as unknown;
  }

  // Keyv sets the namespace on its store: the inner store builds the keys.
  get namespace(): string | undefined {
    return this.inner.namespace;
  }

  set namespace(value: string | undefined) {
    this.inner.namespace = value;
  }

  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.gate(() => this.inner.get<Value>(key));
  }

  getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const inner = this.inner;
    return inner.getMany
      ? this.gate(() => inner.getMany!<Value>(keys))
      : Promise.all(keys.map((k) => this.get<Value>(k)));
  }

  set(key: string, value: unknown, ttl?: number): Promise<unknown> {
    return this.gate(() => Promise.resolve(this.inner.set(key, value, ttl)));
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const inner = this.inner;
    if (inner.setMany) return this.gate(() => inner.setMany!(entries));
    await Promise.all(entries.map((e) => this.set(e.key, e.value, e.ttl)));
  }

  delete(key: string): Promise<boolean> {
    return this.gate(() => this.inner.delete(key));
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const inner = this.inner;
    if (inner.deleteMany) return this.gate(() => inner.deleteMany!(keys));
    return (await Promise.all(keys.map((k) => this.delete(k)))).every(Boolean);
  }

  clear(): Promise<void> {
    return this.gate(() => this.inner.clear());
  }

  on(event: string, listener: (...args: unknown[]) => void): IEventEmitter {
    this.inner.on(event, listener);
    return this;
  }
}
