/** Options of {@link createZipf}. */
export interface ZipfOptions {
  /** Number of distinct keys; samples are ranks in [0, n). */
  n: number;
  /** Skew: the key of rank r is drawn with probability ∝ 1 / (r + 1)^s. @default 1 */
  s?: number;
  /** Seed of the PRNG; the same seed gives the same sequence. @default 1 */
  seed?: number;
}

/**
 * mulberry32: a tiny, fast, seeded PRNG returning floats in [0, 1). Good
 * enough for workloads and property tests; not for anything secret.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Generalised harmonic number H(k, s) = Σ_{r=1..k} 1 / r^s. */
function harmonic(k: number, s: number): number {
  let sum = 0;
  // Smallest terms first, to lose less precision.
  for (let r = k; r >= 1; r--) sum += 1 / r ** s;
  return sum;
}

/**
 * A deterministic Zipf(s) sampler over `n` keys: returns ranks in [0, n),
 * 0 being the most frequent. Inverse-CDF sampling on a precomputed
 * cumulative table (O(n) memory once, O(log n) per sample), so long request
 * sequences are cheap and reproducible from the seed.
 */
export function createZipf({ n, s = 1, seed = 1 }: ZipfOptions): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** s;
    cdf[r] = sum;
  }
  for (let r = 0; r < n; r++) cdf[r] /= sum;
  // Rounding may leave the last cumulative value just under 1; a draw must always land.
  cdf[n - 1] = 1;
  const random = mulberry32(seed);
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    // The first rank whose cumulative probability exceeds u.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/**
 * The hit ratio of a cache of `capacity` entries that always holds the most
 * frequent keys of a Zipf(s) workload over `n` keys: the sum of the top
 * `capacity` probabilities, H(capacity, s) / H(n, s). With independent
 * requests, no policy that cannot see the future does better.
 */
export function frequencyOptimalHitRatio(n: number, s: number, capacity: number): number {
  if (capacity >= n) return 1;
  return harmonic(capacity, s) / harmonic(n, s);
}
