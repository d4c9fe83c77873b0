/**
 * Callers waiting for a lock's release in this process, by lock name. A
 * release here, a release notice from another instance (bus) or Redis
 * becoming unavailable wakes them; a timer ends each wait otherwise.
 */
export class LockWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves true when woken, false after `ms` or when `signal` aborts. */
  wait(name: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      let set = this.waiting.get(name);
      if (!set) this.waiting.set(name, (set = new Set()));
      const wake = () => finish(true);
      const abort = () => finish(false);
      const timer = setTimeout(() => finish(false), Math.max(0, ms));
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        set.delete(wake);
        if (set.size === 0 && this.waiting.get(name) === set) this.waiting.delete(name);
        resolve(woken);
      };
      signal?.addEventListener('abort', abort, { once: true });
      set.add(wake);
    });
  }

  /** Wakes the waiters of these names. */
  wake(names: Iterable<string>): void {
    for (const name of names) for (const wake of [...(this.waiting.get(name) ?? [])]) wake();
  }

  /** Wakes every waiter (Redis became unavailable: waiting cannot end in a lock). */
  wakeAll(): void {
    this.wake([...this.waiting.keys()]);
  }

  /** Names with at least one waiter (for tests and stats). */
  get size(): number {
    return this.waiting.size;
  }
}
