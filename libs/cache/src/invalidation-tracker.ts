/** Remembered invalidations above which `end` prunes. */
const PRUNE_MIN = 1_000;

/**
 * Remembers, while reads and loads are in flight, which keys and tags were
 * invalidated and when (a local sequence number). A read or load that started
 * before an invalidation of its key or tags must not put its value into the
 * cache. Entries older than the oldest operation in flight are pruned.
 */
export class InvalidationTracker {
  private seq = 0;
  /** Sequence of the last invalidation of everything (`noteAll`). */
  private allAt = 0;
  private readonly invalidatedAt = new Map<string, number>();
  /** Start sequence → number of operations in flight that started there. */
  private readonly active = new Map<number, number>();
  /** Size of `invalidatedAt` that triggers the next prune (doubles when a prune frees little). */
  private pruneAt = PRUNE_MIN;

  /** The sequence now: an operation that starts later than a flight's `begin` came after every invalidation between. */
  get position(): number {
    return this.seq;
  }

  /** Registers an operation; pass the result to `changed` and `end`. */
  begin(): number {
    this.active.set(this.seq, (this.active.get(this.seq) ?? 0) + 1);
    return this.seq;
  }

  end(start: number): void {
    const count = (this.active.get(start) ?? 1) - 1;
    if (count > 0) this.active.set(start, count);
    else this.active.delete(start);
    if (this.active.size === 0) {
      this.invalidatedAt.clear();
      this.pruneAt = PRUNE_MIN;
    } else if (this.invalidatedAt.size > this.pruneAt) this.prune();
  }

  note(keys: readonly string[], tags: readonly string[]): void {
    this.seq++;
    if (this.active.size === 0) return; // nothing in flight can be affected
    for (const k of keys) this.invalidatedAt.set(`k:${k}`, this.seq);
    for (const t of tags) this.invalidatedAt.set(`t:${t}`, this.seq);
  }

  /** Everything was invalidated (L1 dropped whole): no operation in flight may store. */
  noteAll(): void {
    this.allAt = ++this.seq;
  }

  /** True when `key` or one of `tags` was invalidated after `start`. */
  changed(start: number, key: string, tags: readonly string[]): boolean {
    if (this.seq === start) return false;
    if (this.allAt > start) return true;
    if ((this.invalidatedAt.get(`k:${key}`) ?? 0) > start) return true;
    return tags.some((t) => (this.invalidatedAt.get(`t:${t}`) ?? 0) > start);
  }

  private prune(): void {
    // A loop, not Math.min(...keys): spreading tens of thousands of
    // in-flight starts as arguments overflows the stack.
    let oldest = Infinity;
    for (const start of this.active.keys()) if (start < oldest) oldest = start;
    for (const [target, seq] of this.invalidatedAt) if (seq <= oldest) this.invalidatedAt.delete(target);
    // While a long operation pins old entries, pruning at every end would scan
    // them all each time: wait until the map has doubled (amortised O(1)).
    this.pruneAt = Math.max(PRUNE_MIN, this.invalidatedAt.size * 2);
  }
}
