import { CacheLockLostError } from '../cache.errors';
import type { Lease } from './distributed-lock';

/** What a lease asks its lock to do. */
export interface LeaseBackend {
  /** Compare-and-extend: `held`, `lost` (another owner, or none), or throws (Redis failed). Absent: never expires. */
  renew?: (lease: Lease) => Promise<'held' | 'lost'>;
  /** Compare-and-delete and wake waiters; true when the lock was still ours. Never throws. */
  release: (lease: Lease) => Promise<boolean>;
  /** Told once when the lease is lost (counting, logging). */
  lost: (lease: Lease, cause?: unknown) => void;
}

/**
 * A lease with its renewal timer (every ttl/3). It counts as lost when a
 * renewal finds another owner, or when renewals keep failing until the ttl
 * since the last confirmed one has passed (the key may have expired in Redis).
 */
export class LockLease implements Lease {
  private state: 'held' | 'released' | 'lost' = 'held';
  private readonly controller = new AbortController();
  private readonly timer?: NodeJS.Timeout;
  /** Local time at which the last successful acquire/renew was sent, plus ttl. */
  private validUntil: number;
  private renewing = false;

  constructor(
    readonly name: string,
    readonly token: string,
    readonly fencingToken: number,
    private readonly ttlMs: number,
    sentAt: number,
    private readonly backend: LeaseBackend,
  ) {
    this.validUntil = sentAt + ttlMs;
    if (backend.renew) {
      this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(ttlMs / 3)));
      this.timer.unref();
    }
  }

  get held(): boolean {
    return this.state === 'held';
  }

  get lost(): boolean {
    return this.state === 'lost';
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async release(): Promise<boolean> {
    if (this.state !== 'held') return false;
    this.state = 'released';
    clearInterval(this.timer);
    return this.backend.release(this);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.state !== 'held') return;
    this.renewing = true;
    const sentAt = Date.now();
    try {
      const outcome = await this.backend.renew!(this);
      if (this.state !== 'held') return;
      if (outcome === 'held') this.validUntil = sentAt + this.ttlMs;
      else this.lose();
    } catch (error) {
      // Unknown whether Redis still has our key: lost once it would have expired.
      if (this.state === 'held' && Date.now() >= this.validUntil) this.lose(error);
    } finally {
      this.renewing = false;
    }
  }

  private lose(cause?: unknown): void {
    this.state = 'lost';
    clearInterval(this.timer);
    this.backend.lost(this, cause);
    this.controller.abort(new CacheLockLostError(this.name, { cause }));
  }
}
