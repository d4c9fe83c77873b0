import type { L1Entry } from '../cache-entry';
import type { EngineContext } from './engine-context';

/** Whether L1 may be trusted now: while the Redis bus is unheard, only after the second channel's barrier. */
export interface L1Trust {
  /** True while an invalidation made elsewhere may still be on its way through the second channel. */
  needsBarrier(): boolean;
  /** Waits for that channel's barrier; false (L1 untrusted) when it cannot be passed. */
  passBarrier(): Promise<boolean>;
}

/**
 * Reads of L1, counted: fresh entries, entries within grace, and the reads
 * made while this instance cannot hear the Redis bus, which serve an entry
 * only once the second invalidation channel's barrier has passed.
 */
export class LocalTier {
  constructor(
    private readonly ctx: EngineContext,
    private readonly trust: L1Trust,
  ) {}

  /** A fresh entry, counted as an L1 hit or miss. */
  fresh(namespace: string, full: string): L1Entry | undefined {
    const { stats, l1 } = this.ctx;
    // Sampled: two clock reads and a histogram update on every hit would cost more than the hit.
    const started = stats.sampleL1() ? performance.now() : -1;
    const entry = l1.get(full);
    if (started >= 0) stats.duration('get', 'l1', started);
    if (entry && entry.expiresAt > Date.now()) {
      stats.count(namespace, 'l1', 'hits');
      return entry;
    }
    stats.count(namespace, 'l1', 'misses');
    return undefined;
  }

  /**
   * `fresh` while the bus is unheard: the entry is served only once the
   * barrier has passed, and only if no invalidation delivered meanwhile
   * removed it. With the barrier failing (Postgres unreachable too), L1
   * cannot be proven current and the read is a miss.
   */
  async heard(namespace: string, full: string): Promise<L1Entry | undefined> {
    if (!this.ctx.l1.peek(full)) return this.fresh(namespace, full);
    if (!(await this.trust.passBarrier())) return this.untrusted(namespace);
    return this.fresh(namespace, full);
  }

  /**
   * Fresh entries for several keys, in order. The barrier only matters for
   * keys L1 holds: none held, no round trip.
   */
  async readMany(namespace: string, fulls: readonly string[]): Promise<Array<L1Entry | undefined>> {
    const heard =
      !this.trust.needsBarrier() || !fulls.some((f) => this.ctx.l1.peek(f)) || (await this.trust.passBarrier());
    return fulls.map((full) => (heard ? this.fresh(namespace, full) : this.untrusted(namespace)));
  }

  /** An entry past its TTL but within its grace window (for a failing loader), uncounted. */
  withinGrace(full: string): L1Entry | undefined {
    const entry = this.ctx.l1.peek(full);
    return entry && entry.graceUntil > Date.now() ? entry : undefined;
  }

  /** An L1 read refused because L1 cannot be proven current: a miss. */
  private untrusted(namespace: string): undefined {
    this.ctx.stats.count(namespace, 'l1', 'misses');
    return undefined;
  }
}
