/**
 * An estimate of Redis's clock between the replies that carry it (the Lua
 * scripts return the server time they ran at), advanced by the local
 * monotonic clock, so that wall-clock jumps on this host do not move it.
 *
 * The estimate lags the server by the reply's trip back (the time is taken
 * when the reply is handled, not when the script ran) and by the
 * millisecond truncation of `TIME`: it is never ahead of Redis, except by
 * the drift between the two clocks, which `maxAgeMs` bounds (at 50 ppm,
 * 0.05 ms per second).
 */
export class ServerClock {
  private serverMs = 0;
  private localMs = -Infinity;

  /** @param maxAgeMs how long an observation is trusted. */
  constructor(private readonly maxAgeMs: number) {}

  /** Records the server time (ms) carried by a reply that has just arrived. */
  observe(serverMs: number): void {
    if (!(serverMs > 0)) return;
    this.serverMs = serverMs;
    this.localMs = performance.now();
  }

  /** True once a server time has been observed (`now` is meaningless before). */
  get observed(): boolean {
    return this.localMs > -Infinity;
  }

  /** True while the last observation is recent enough to estimate from. */
  get fresh(): boolean {
    return performance.now() - this.localMs < this.maxAgeMs;
  }

  /** Estimated server time in ms (meaningful only while `fresh`). */
  now(): number {
    return this.serverMs + (performance.now() - this.localMs);
  }
}
