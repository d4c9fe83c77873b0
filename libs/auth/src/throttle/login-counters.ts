/** The login limits in milliseconds, as the counters use them. */
export interface LoginLimitsMs {
  pairLimit: number;
  pairTtlMs: number;
  emailLimit: number;
  emailTtlMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** The counters of one attempt: its (email, IP) pair, and its email across all addresses. */
export interface LoginKeys {
  /** Failures of this email from this address. */
  pair: string;
  /** Failures of this email from every address. */
  email: string;
  /** Set while the email is backing off (past `emailLimit`). */
  block: string;
}

/** Whether an attempt may check its password; when not, how long until one may. */
export type LoginAdmission = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * The backoff of an email after its `failures`-th failure in the window:
 * none below `emailLimit`, then `base`, doubling per failure, at most `max`.
 */
export function backoffMs(failures: number, limits: LoginLimitsMs): number {
  const over = failures - limits.emailLimit;
  if (over < 0) return 0;
  // 2^40 × 1 ms is already 35 years: the exponent is capped so the product stays finite.
  return Math.min(limits.backoffMaxMs, limits.backoffBaseMs * 2 ** Math.min(over, 40));
}

interface Counter {
  count: number;
  endsAt: number;
}

/** How often ended windows are dropped. */
const SWEEP_MS = 10_000;

/**
 * The login counters in this process's memory: the same policy as the Redis
 * script (`LoginLimiter`), exact for this instance. Used when Redis is not
 * configured or not answering, so the limits still hold per instance.
 *
 * An attempt is counted as a failure when it is admitted, before its
 * password is checked, so concurrent attempts cannot all pass a count read
 * before any of them failed; a success gives its count back.
 */
export class MemoryLoginCounters {
  private readonly counters = new Map<string, Counter>();
  private lastSweep = Date.now();

  begin(keys: LoginKeys, limits: LoginLimitsMs): LoginAdmission {
    const now = Date.now();
    this.sweep(now);
    const block = this.live(keys.block, now);
    if (block) return { allowed: false, retryAfterMs: block.endsAt - now };
    const pair = this.live(keys.pair, now);
    if (pair && pair.count >= limits.pairLimit) return { allowed: false, retryAfterMs: pair.endsAt - now };
    this.increment(keys.pair, limits.pairTtlMs, now);
    const failures = this.increment(keys.email, limits.emailTtlMs, now);
    const backoff = backoffMs(failures, limits);
    if (backoff > 0) this.counters.set(keys.block, { count: 1, endsAt: now + backoff });
    return { allowed: true };
  }

  /** The attempt's password was right: the pair starts afresh, the email gets the attempt back. */
  succeeded(keys: LoginKeys): void {
    this.counters.delete(keys.pair);
    this.giveBack(keys.email);
  }

  /** The attempt ended without an answer on its password (an outage): neither count keeps it. */
  released(keys: LoginKeys): void {
    this.giveBack(keys.pair);
    this.giveBack(keys.email);
  }

  /** Counters held (for tests). */
  get size(): number {
    return this.counters.size;
  }

  private live(key: string, now: number): Counter | undefined {
    const counter = this.counters.get(key);
    if (counter && counter.endsAt > now) return counter;
    if (counter) this.counters.delete(key);
    return undefined;
  }

  private increment(key: string, ttlMs: number, now: number): number {
    const counter = this.live(key, now);
    if (counter) return ++counter.count;
    this.counters.set(key, { count: 1, endsAt: now + ttlMs });
    return 1;
  }

  private giveBack(key: string): void {
    const counter = this.live(key, Date.now());
    if (counter && counter.count > 0) counter.count--;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [key, counter] of this.counters) if (counter.endsAt <= now) this.counters.delete(key);
  }
}
