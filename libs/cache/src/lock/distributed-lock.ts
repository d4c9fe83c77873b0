import { CacheArgumentError, CacheLockError } from '../cache.errors';

/** A held lock. Release it in `finally`; watch `signal` if the work must stop once the lock is lost. */
export interface Lease {
  /** The lock's name, as given to `acquire`. */
  readonly name: string;
  /** This owner's random token (what compare-and-extend and compare-and-delete compare). */
  readonly token: string;
  /**
   * Strictly greater than the token of every earlier acquisition of this
   * name (on every instance). Pass it along with writes to another system,
   * which keeps the highest it has seen and refuses lower ones: a holder
   * that lost its lock without knowing (a pause, a failover) cannot then
   * overwrite its successor's work.
   */
  readonly fencingToken: number;
  /** True until `release()` or loss. */
  readonly held: boolean;
  /** True once renewal failed or found another owner. */
  readonly lost: boolean;
  /** Aborted (with a `CacheLockLostError` reason) when the lease is lost; never on a normal release. */
  readonly signal: AbortSignal;
  /**
   * Stops renewal and deletes the lock if this owner still holds it
   * (compare-and-delete), then wakes waiters. True when the lock was still
   * ours; idempotent. Never throws (a failed delete leaves the lock to expire).
   */
  release(): Promise<boolean>;
}

/** Options of `acquire` and `withLock`. */
export interface AcquireOptions {
  /** Lease time; renewed every `ttlMs / 3` while held. @default the module's `lockLeaseMs` (10 s) */
  ttlMs?: number;
  /** How long to wait for another owner to release; 0 tries once. @default the module's `lockWaitMs` (5 s) */
  waitMs?: number;
  /** Stops waiting: `acquire` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The outcome of one `attempt`: the lease, or why there is none. */
export type LockAttempt =
  | { lease: Lease; reason?: undefined }
  /** `busy`: another owner holds it. `unavailable`: Redis failed or the breaker is open. */
  | { lease?: undefined; reason: 'busy' | 'unavailable' };

/** Defaults of a lock (from the cache options). */
export interface LockDefaults {
  ttlMs: number;
  waitMs: number;
  /** While waiting, the lock is tried again this often in case a release notice was lost. */
  pollMs: number;
}

/** Shortest lease accepted: renewal runs every ttl/3. */
const MIN_TTL_MS = 30;

/**
 * A named mutual-exclusion lock with leases, automatic renewal and fencing
 * tokens. Inject it (`CacheModule` provides it): with Redis, one owner across
 * every instance sharing the cache prefix (`RedisLock`); with the memory
 * backend, one owner in this process (`LocalLock`), same API.
 *
 * `acquire` returns undefined when the lock cannot be had: busy past the
 * wait deadline, or Redis unavailable (then at once when the cache's breaker
 * is open). The caller decides whether to go on unlocked, as the cache's own
 * loader does (a duplicate load is harmless there); `withLock` throws
 * `CacheLockError` instead.
 */
export abstract class DistributedLock {
  protected constructor(protected readonly defaults: LockDefaults) {}

  /** One try, no waiting. */
  abstract attempt(name: string, options?: { ttlMs?: number }): Promise<LockAttempt>;

  /**
   * Waits until a release of `name` is announced (on any instance), or
   * until waiting is pointless (Redis became unavailable): true then; false
   * after `timeoutMs` or on abort. A wake-up is a hint, not ownership.
   */
  abstract waitForRelease(name: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;

  /** The lease, or undefined (busy past `waitMs`, or Redis unavailable). */
  async acquire(name: string, options: AcquireOptions = {}): Promise<Lease | undefined> {
    return (await this.acquireOrWhy(name, options)).lease;
  }

  /** Runs `fn` holding the lock and releases it after; `CacheLockError` when it cannot be had. */
  async withLock<R>(name: string, fn: (lease: Lease) => Promise<R> | R, options: AcquireOptions = {}): Promise<R> {
    const { lease, reason } = await this.acquireOrWhy(name, options);
    if (!lease) throw new CacheLockError(name, reason);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }

  private async acquireOrWhy(name: string, options: AcquireOptions): Promise<LockAttempt> {
    const ttlMs = this.ttlOf(options.ttlMs);
    const waitMs = options.waitMs ?? this.defaults.waitMs;
    if (!(waitMs >= 0)) throw new CacheArgumentError('waitMs must be a number >= 0');
    const { signal } = options;
    const deadline = Date.now() + waitMs;
    for (;;) {
      signal?.throwIfAborted();
      const attempt = await this.attempt(name, { ttlMs });
      if (signal?.aborted) {
        await attempt.lease?.release();
        signal.throwIfAborted();
      }
      const left = deadline - Date.now();
      if (attempt.lease || attempt.reason === 'unavailable' || left <= 0) {
        if (attempt.reason === 'busy') this.timedOut();
        return attempt;
      }
      await this.waitForRelease(name, Math.min(left, this.defaults.pollMs), signal);
    }
  }

  /** Counts an acquisition that gave up waiting. */
  protected abstract timedOut(): void;

  /** A validated lease time. */
  protected ttlOf(ttlMs: number | undefined): number {
    const ttl = ttlMs ?? this.defaults.ttlMs;
    if (!Number.isFinite(ttl) || ttl < MIN_TTL_MS) throw new CacheArgumentError(`ttlMs must be >= ${MIN_TTL_MS}`);
    return Math.round(ttl);
  }
}
