/** Largest value of a 4-bit counter. */
const MAX_COUNT = 15;

/** 32-bit words per block: 16 × 4 bytes = one 64-byte cache line, so an operation touches one line. */
const BLOCK_WORDS = 16;

/** How many increments, per unit of capacity, before every counter is halved (Caffeine uses 10). */
const SAMPLE_FACTOR = 10;

/** Selects the low bit of each of the eight 4-bit counters in a word. */
const LOW_BITS = 0x11111111;

/** Clears the bit a right shift carries from one counter into its lower neighbour. */
const HALVE_MASK = 0x77777777;

/**
 * FNV-1a (32-bit) over the UTF-16 code units of `key`. Fast and allocation
 * free; its weak low bits are fixed by the sketch's own mixing, so callers
 * may hash once and reuse the result for every sketch operation on the key.
 */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Murmur3's 32-bit finaliser: every input bit affects every output bit. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A 4-bit Count-Min sketch estimating how often keys were requested recently,
 * after Caffeine's `FrequencySketch`. Each key maps to one 64-byte block and
 * to one counter in each of four rows inside it; the estimate is the smallest
 * of the four, so it never under-counts (until aging). Counters saturate at
 * 15: admission only needs to know which of two keys is more popular.
 *
 * Aging: after `sampleSize` successful increments every counter is halved, so
 * keys that were popular long ago lose to keys that are popular now.
 */
export class FrequencySketch {
  /** Successful increments after which all counters are halved. */
  readonly sampleSize: number;
  private readonly table: Uint32Array;
  private readonly blockMask: number;
  private additions = 0;

  /**
   * @param capacity The number of entries the cache holds; sizes the table
   *   (16 counters per entry, as in Caffeine) and the sample.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`FrequencySketch capacity must be a positive integer, got ${capacity}`);
    }
    // Two 8-counter words per unit of capacity = Caffeine's one 16-counter long.
    const words = Math.max(BLOCK_WORDS, 2 ** Math.ceil(Math.log2(capacity)) * 2);
    this.table = new Uint32Array(words);
    this.blockMask = words / BLOCK_WORDS - 1;
    this.sampleSize = SAMPLE_FACTOR * capacity;
  }

  /** Counts one request for `key`. */
  increment(key: string): void {
    this.incrementHash(hashKey(key));
  }

  /** Counts one request for a key whose {@link hashKey} is `hash`. */
  incrementHash(hash: number): void {
    const blockHash = mix(hash);
    const counterHash = mix(blockHash ^ 0x9e3779b9);
    const block = (blockHash & this.blockMask) * BLOCK_WORDS;
    let added = false;
    for (let row = 0; row < 4; row++) {
      // One byte of counterHash per row: 2 bits pick one of the row's 4 words, 3 bits the counter.
      const h = counterHash >>> (row << 3);
      const index = block + (row << 2) + (h & 3);
      const shift = ((h >>> 2) & 7) << 2;
      const word = this.table[index];
      if (((word >>> shift) & MAX_COUNT) !== MAX_COUNT) {
        this.table[index] = word + (1 << shift);
        added = true;
      }
    }
    // Saturated keys do not advance the sample, as in Caffeine.
    if (added && ++this.additions >= this.sampleSize) this.reset();
  }

  /** The estimated number of recent requests for `key`, 0..15. */
  frequency(key: string): number {
    return this.frequencyHash(hashKey(key));
  }

  /** The estimated number of recent requests for a key whose {@link hashKey} is `hash`, 0..15. */
  frequencyHash(hash: number): number {
    const blockHash = mix(hash);
    const counterHash = mix(blockHash ^ 0x9e3779b9);
    const block = (blockHash & this.blockMask) * BLOCK_WORDS;
    let min = MAX_COUNT;
    for (let row = 0; row < 4; row++) {
      const h = counterHash >>> (row << 3);
      const count = (this.table[block + (row << 2) + (h & 3)] >>> (((h >>> 2) & 7) << 2)) & MAX_COUNT;
      if (count < min) min = count;
    }
    return min;
  }

  /** Halves every counter (rounding down). Runs by itself every `sampleSize` increments. */
  reset(): void {
    let odd = 0;
    for (let i = 0; i < this.table.length; i++) {
      const word = this.table[i];
      // Multiplying sums the eight 0/1 low bits into the top nibble (at most 8: no carry).
      odd += Math.imul(word & LOW_BITS, LOW_BITS) >>> 28;
      this.table[i] = (word >>> 1) & HALVE_MASK;
    }
    // Each key owns 4 counters; the dropped halves are the truncation error Caffeine corrects for.
    this.additions = Math.max(0, this.additions - (odd >>> 2)) >>> 1;
  }
}
