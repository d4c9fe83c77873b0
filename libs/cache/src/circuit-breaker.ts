/** Breaker states: `closed` uses Redis, `open` skips it. */
export type BreakerState = 'closed' | 'open';

/** Options of the breaker around L2. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures (errors or deadline misses) that open the breaker.
   * @default 3
   */
  failureThreshold?: number;
}

/**
 * Counts consecutive L2 failures. Once open, no call waits on Redis: the
 * cache serves from L1 and the loader, and a background probe (run by the
 * cache) closes the breaker when Redis answers again. There is no half-open
 * state letting a real request through: a request would pay the deadline
 * whenever Redis is still down.
 */
export class CircuitBreaker {
  private failures = 0;
  private current: BreakerState = 'closed';
  private readonly threshold: number;
  private readonly listeners: Array<(state: BreakerState) => void> = [];

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.failureThreshold ?? 3;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** True when L2 may be called. */
  get closed(): boolean {
    return this.current === 'closed';
  }

  /** Registers a listener of state changes. */
  onChange(listener: (state: BreakerState) => void): void {
    this.listeners.push(listener);
  }

  success(): void {
    this.failures = 0;
  }

  failure(): void {
    this.failures++;
    if (this.current === 'closed' && this.failures >= this.threshold) this.set('open');
  }

  /** Opens at once (the connection reported itself down). */
  trip(): void {
    this.set('open');
  }

  /** Closes after a successful probe. */
  close(): void {
    this.failures = 0;
    this.set('closed');
  }

  private set(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
