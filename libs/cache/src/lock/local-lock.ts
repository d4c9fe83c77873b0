import { randomUUID } from 'node:crypto';
import type { CacheStats } from '../cache-stats';
import { DistributedLock, type LockAttempt, type LockDefaults } from './distributed-lock';
import { LockLease } from './lock-lease';
import { lockName } from './lock-name';
import { LockWaiters } from './lock-waiters';

/**
 * `DistributedLock` for the memory backend: mutual exclusion among the
 * callers of this process only (other processes do not see it). A lease is
 * never lost (its holder is this process; `ttlMs` is accepted and ignored)
 * and lasts until `release()`. Fencing tokens increase within the process
 * and start again at a restart.
 */
export class LocalLock extends DistributedLock {
  private readonly owners = new Map<string, string>();
  private readonly waiters = new LockWaiters();
  private fence = 0;

  constructor(
    private readonly stats: CacheStats,
    defaults: LockDefaults,
  ) {
    super(defaults);
  }

  attempt(name: string, options: { ttlMs?: number } = {}): Promise<LockAttempt> {
    const ttlMs = this.ttlOf(options.ttlMs);
    const safe = lockName(name);
    if (this.owners.has(safe)) return Promise.resolve({ reason: 'busy' });
    const token = randomUUID();
    this.owners.set(safe, token);
    this.stats.lockEvent('acquired');
    const lease = new LockLease(name, token, ++this.fence, ttlMs, Date.now(), {
      release: (l) => {
        const ours = this.owners.get(safe) === l.token;
        if (ours) this.owners.delete(safe);
        this.waiters.wake([safe]);
        return Promise.resolve(ours);
      },
      lost: () => this.stats.lockEvent('lost'),
    });
    return Promise.resolve({ lease });
  }

  waitForRelease(name: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.waiters.wait(lockName(name), timeoutMs, signal);
  }

  protected timedOut(): void {
    this.stats.lockEvent('busy');
  }
}
