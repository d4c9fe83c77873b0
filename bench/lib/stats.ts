/** Throughput and latency of one contender in one scenario. */
export interface LatencySample {
  /** Calls measured (fewer than planned when the time budget ran out). */
  calls: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/**
 * Times sequential awaited calls into a preallocated array (recording
 * allocates nothing), possibly over several `run`s, so that contenders can
 * take turns and a noisy stretch of the shared VM is spread over all of them.
 * Throughput is calls over the summed wall time of the runs, timer reads included.
 */
export class LatencyRecorder {
  private readonly latencies: Float64Array;
  private count = 0;
  private elapsedMs = 0;

  /** @param maxMs total time budget; once spent, `run` records nothing more. */
  constructor(
    capacity: number,
    private readonly maxMs = Infinity,
  ) {
    this.latencies = new Float64Array(capacity);
  }

  /** Calls planned. */
  get capacity(): number {
    return this.latencies.length;
  }

  /** Runs `op(from)` … `op(to - 1)`, each awaited, until the capacity or the time budget is spent. */
  async run(op: (i: number) => Promise<unknown>, from: number, to: number): Promise<void> {
    const started = performance.now();
    const deadline = started + (this.maxMs - this.elapsedMs);
    for (let i = from; i < to && this.count < this.latencies.length && started < deadline; i++) {
      const t0 = performance.now();
      await op(i);
      const t1 = performance.now();
      this.latencies[this.count++] = t1 - t0;
      if (t1 > deadline) break;
    }
    this.elapsedMs += performance.now() - started;
  }

  summary(): LatencySample {
    // Typed-array sort is numeric.
    const sorted = this.latencies.slice(0, this.count).sort();
    return {
      calls: this.count,
      opsPerSec: this.count / (this.elapsedMs / 1000),
      p50Us: percentile(sorted, 0.5) * 1000,
      p99Us: percentile(sorted, 0.99) * 1000,
    };
  }
}

/** Runs `op(0)` … `op(calls - 1)` once, sequentially: a warm-up. */
export async function runSequential(op: (i: number) => Promise<unknown>, calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) await op(i);
}

/** `global.gc`, present when Node runs with --expose-gc (as `npm run bench:cache` does). */
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/**
 * `rounds` rounds in which every item takes a turn, starting with a different
 * item each round, so that no contender always runs first or last. A full GC
 * before each turn keeps one contender's garbage from being collected on
 * another's clock.
 */
export async function inTurns<T>(
  items: readonly T[],
  rounds: number,
  turn: (item: T, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < items.length; j++) {
      collectGarbage?.();
      await turn(items[(round + j) % items.length], round);
    }
  }
}

/** Nearest-rank percentile of an ascending array (`p` in [0, 1]). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * The median of `values`: the middle one, or the mean of the two middle ones
 * of an even count (with two rounds, not the better of the two).
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
