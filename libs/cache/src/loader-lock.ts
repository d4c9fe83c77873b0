import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { L1Entry } from './cache-entry';
import type { KeyLayout } from './keys';
import type { RedisL2 } from './l2/redis-l2';

const nothing = () => Promise.resolve(undefined);

/** A read of L2 as `TieredCache` performs it. */
type Reader = () => Promise<{ entry?: L1Entry; fresh: boolean } | undefined>;

/** The outcome of trying to take an entry's loader lease. */
export interface Lease {
  /** True when this instance loads; false when another instance does. */
  readonly held: boolean;
  /** (Not held) waits for the holder's value; undefined past the wait deadline or when the holder gave up. */
  waitForFill(read: Reader): Promise<L1Entry | undefined>;
  /** (Held) stops renewal, releases the lease and notifies waiters. */
  release(notify: () => Promise<void>): Promise<void>;
}

/**
 * Cross-instance single flight: `SET NX PX` with a random token, renewed
 * while the loader runs, released by compare-and-delete. Waiters are woken by
 * the holder's bus notice (no busy polling); a slow poll covers a lost notice.
 */
export class LoaderLock {
  private readonly logger = new Logger(LoaderLock.name);
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly l2: RedisL2,
    private readonly keys: KeyLayout,
    private readonly leaseMs: number,
    private readonly waitMs: number,
  ) {}

  async acquire(entryKey: string): Promise<Lease> {
    const lockKey = this.keys.lockFor(entryKey);
    const token = randomUUID();
    const held = await this.l2.acquireLock(lockKey, token, this.leaseMs).catch(() => undefined);
    // Redis failed: nobody can coordinate, so load locally (single flight still holds per process).
    if (held === undefined) return { held: true, waitForFill: nothing, release: nothing };
    if (!held) return { held: false, waitForFill: (read) => this.wait(entryKey, read), release: nothing };
    const renewal = setInterval(
      () => {
        this.l2
          .renewLock(lockKey, token, this.leaseMs)
          .catch((e: unknown) => this.logger.debug(`renew failed: ${String(e)}`));
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    renewal.unref();
    return {
      held: true,
      waitForFill: nothing,
      release: async (notify) => {
        clearInterval(renewal);
        await this.l2
          .releaseLock(lockKey, token)
          .catch((e: unknown) => this.logger.debug(`release failed: ${String(e)}`));
        await notify();
      },
    };
  }

  /** Wakes this instance's waiters for the given entry keys (a holder on another instance finished). */
  notifyFilled(entryKeys: readonly string[]): void {
    for (const key of entryKeys) for (const wake of this.waiters.get(key) ?? []) wake();
  }

  private async wait(entryKey: string, read: Reader): Promise<L1Entry | undefined> {
    const deadline = Date.now() + this.waitMs;
    let poll = 50;
    while (Date.now() < deadline) {
      const woken = await this.sleep(entryKey, Math.min(poll, deadline - Date.now()));
      const result = await read();
      // Redis stopped answering (breaker open): waiting longer cannot help.
      if (!result) return undefined;
      if (result.fresh && result.entry) return result.entry;
      // The holder finished without a value (its loader failed): load here.
      if (woken) return undefined;
      poll = Math.min(poll * 2, 500);
    }
    return undefined;
  }

  /** Resolves true when woken by a notice, false after `ms`. */
  private sleep(entryKey: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.waiters.get(entryKey);
      if (!set) this.waiters.set(entryKey, (set = new Set()));
      const wake = () => finish(true);
      const timer = setTimeout(() => finish(false), ms);
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(entryKey);
        resolve(woken);
      };
      set.add(wake);
    });
  }
}
