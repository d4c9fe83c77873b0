import { FrequencySketch, hashKey } from './frequency-sketch';

/** Capacity options. */
export interface WTinyLfuOptions {
  /** Maximum number of entries. @default 10_000 */
  maxEntries?: number;
  /** Maximum total of entry sizes (bytes, as reported by the caller). @default 64 MiB */
  maxBytes?: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Share of the capacity given to the admission window (Caffeine's static starting point). */
const WINDOW_SHARE = 0.01;

/** Share of the main space given to its protected segment. */
const PROTECTED_SHARE = 0.8;

/** A candidate this popular is sometimes admitted even when it loses, so crafted collisions cannot pin a victim. */
const HASH_DOS_THRESHOLD = 6;

/** Chance of that random admission (Caffeine: 1 in 128). */
const HASH_DOS_ADMIT_CHANCE = 1 / 128;

/** One entry, linked into exactly one of the three access-order queues. */
class Node<V> {
  prev: Node<V> = this;
  next: Node<V> = this;
  queue: AccessQueue<V> | undefined;

  constructor(
    readonly key: string,
    public value: V,
    public size: number,
    /** The key's {@link hashKey}, kept so eviction never rehashes. */
    readonly hash: number,
  ) {}
}

/**
 * A circular doubly linked list around a sentinel, least recently used first.
 * Intrusive (the links live in the nodes), so every operation is O(1) and
 * allocation free.
 */
class AccessQueue<V> {
  count = 0;
  bytes = 0;
  // The sentinel never carries a value; the cast saves a null check on every link.
  private readonly sentinel = new Node<V>('', undefined as V, 0, 0);

  /** The least recently used node, or undefined when empty. */
  first(): Node<V> | undefined {
    const node = this.sentinel.next;
    return node === this.sentinel ? undefined : node;
  }

  /** The node after `node` (more recently used), or undefined at the end. */
  after(node: Node<V>): Node<V> | undefined {
    return node.next === this.sentinel ? undefined : node.next;
  }

  push(node: Node<V>): void {
    const last = this.sentinel.prev;
    node.prev = last;
    node.next = this.sentinel;
    last.next = node;
    this.sentinel.prev = node;
    node.queue = this;
    this.count++;
    this.bytes += node.size;
  }

  remove(node: Node<V>): void {
    node.prev.next = node.next;
    node.next.prev = node.prev;
    node.prev = node.next = node;
    node.queue = undefined;
    this.count--;
    this.bytes -= node.size;
  }

  moveToBack(node: Node<V>): void {
    this.remove(node);
    this.push(node);
  }

  clear(): void {
    this.sentinel.prev = this.sentinel.next = this.sentinel;
    this.count = 0;
    this.bytes = 0;
  }
}

/**
 * In-process store with Window-TinyLFU eviction, after Caffeine. New entries
 * enter a small LRU window (1 %); the window's overflow must then win an
 * admission duel, by recent frequency, against the least recently used entry
 * of the main space's probation segment. A hit in probation promotes to the
 * protected segment (80 % of main). The window absorbs bursts; the duel keeps
 * one-off keys (scans) from flushing popular ones. Bounded by entry count and
 * by bytes; get/set/delete are O(1).
 */
export class WTinyLfu<V> {
  /** Called with (key, value) for every entry removed by eviction (not by delete/clear/replace). Must not modify the store. */
  onEvict?: (key: string, value: V) => void;

  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly windowMaxEntries: number;
  private readonly windowMaxBytes: number;
  private readonly protectedMaxEntries: number;
  private readonly protectedMaxBytes: number;
  private readonly map = new Map<string, Node<V>>();
  private readonly sketch: FrequencySketch;
  private readonly window = new AccessQueue<V>();
  private readonly probation = new AccessQueue<V>();
  private readonly mainProtected = new AccessQueue<V>();
  private totalBytes = 0;

  constructor(options: WTinyLfuOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${maxBytes}`);
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.windowMaxEntries = Math.max(1, Math.floor(maxEntries * WINDOW_SHARE));
    this.windowMaxBytes = maxBytes * WINDOW_SHARE;
    this.protectedMaxEntries = Math.floor((maxEntries - this.windowMaxEntries) * PROTECTED_SHARE);
    this.protectedMaxBytes = maxBytes * (1 - WINDOW_SHARE) * PROTECTED_SHARE;
    this.sketch = new FrequencySketch(maxEntries);
  }

  /** Every key with its size, in no particular order (O(n): for admin figures, not for the request path). */
  *sizes(): IterableIterator<[key: string, size: number]> {
    for (const [key, node] of this.map) yield [key, node.size];
  }

  /** The value, or undefined. Counts the access in the frequency sketch. O(1). */
  get(key: string): V | undefined {
    const node = this.map.get(key);
    if (node === undefined) {
      // Misses count too: a key must be seen as popular before it is stored to win admission.
      this.sketch.incrementHash(hashKey(key));
      return undefined;
    }
    this.sketch.incrementHash(node.hash);
    this.touch(node);
    return node.value;
  }

  /** The value without counting an access or moving it. */
  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  /**
   * Inserts or replaces. `size` is the entry's byte size (>= 0). Returns false
   * when the entry is larger than maxBytes (nothing stored, and any previous
   * value for the key is removed). Eviction may then remove other entries
   * (or, through admission, this one later).
   *
   * A set is not counted in the sketch: it normally follows a missed `get`,
   * which was already counted. A replace moves the entry like a hit. When
   * `set` returns true the entry is stored; it meets admission only when later
   * writes push it out of the window.
   */
  set(key: string, value: V, size: number): boolean {
    if (!(size >= 0)) throw new RangeError(`size must be >= 0, got ${size}`);
    const existing = this.map.get(key);
    if (size > this.maxBytes) {
      if (existing !== undefined) this.unlink(existing);
      return false;
    }
    let node = existing;
    if (node !== undefined) {
      node.queue!.bytes += size - node.size;
      this.totalBytes += size - node.size;
      node.size = size;
      node.value = value;
      this.touch(node);
    } else {
      node = new Node(key, value, size, hashKey(key));
      this.map.set(key, node);
      this.window.push(node);
      this.totalBytes += size;
    }
    this.evict(node);
    return true;
  }

  /** Whether `key` is stored; does not count an access. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Removes one key; true when it was present. */
  delete(key: string): boolean {
    const node = this.map.get(key);
    if (node === undefined) return false;
    this.unlink(node);
    return true;
  }

  /** Removes everything. The sketch is kept: what was popular before is still likely popular. */
  clear(): void {
    this.map.clear();
    this.window.clear();
    this.probation.clear();
    this.mainProtected.clear();
    this.totalBytes = 0;
  }

  /** Number of entries. */
  get size(): number {
    return this.map.size;
  }

  /** Sum of the sizes of the entries. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Iterates over [key, value] pairs (any order); safe to delete the current key during iteration. */
  *entries(): IterableIterator<[string, V]> {
    // Map iteration tolerates deletion of visited keys, which is all we need.
    for (const [key, node] of this.map) yield [key, node.value];
  }

  /** Reorders `node` after an access, by segment (SLRU rules). */
  private touch(node: Node<V>): void {
    const queue = node.queue!;
    if (queue === this.probation) {
      this.probation.remove(node);
      this.mainProtected.push(node);
    } else {
      queue.moveToBack(node);
    }
    if (queue !== this.window) this.demoteProtectedOverflow();
  }

  /** Keeps protected within its share by moving its LRU entries back to probation, where they can be evicted. */
  private demoteProtectedOverflow(): void {
    const queue = this.mainProtected;
    while (queue.count > this.protectedMaxEntries || queue.bytes > this.protectedMaxBytes) {
      const node = queue.first()!;
      queue.remove(node);
      this.probation.push(node);
    }
  }

  /**
   * Restores both bounds: window overflow joins probation, then each window
   * candidate duels probation's LRU victim. `keep`, the entry just written,
   * is never evicted here: it fits alone, and `set` returning true promises
   * it is stored. It competes for admission when later writes push it out.
   */
  private evict(keep: Node<V>): void {
    let candidate = this.overflowWindow(keep);
    let failure: { error: unknown } | undefined;
    while (this.map.size > this.maxEntries || this.totalBytes > this.maxBytes) {
      // Every victim before the candidates has been evicted, so the victim is always probation's LRU.
      const victim = this.firstExcept(this.probation, keep);
      let evicted: Node<V>;
      if (candidate !== undefined && victim !== undefined && victim !== candidate) {
        evicted = this.admit(candidate, victim) ? victim : candidate;
      } else {
        // No duel left: the victim reached the candidates, or there were none.
        evicted = victim ?? this.firstExcept(this.mainProtected, keep) ?? this.firstExcept(this.window, keep)!;
      }
      // Admitted or not, this candidate has had its turn; read the link before unlinking.
      if (candidate !== undefined) candidate = this.probation.after(candidate);
      this.unlink(evicted);
      failure ??= this.notifyEvicted(evicted);
    }
    // Surfaced only once the bounds hold again.
    if (failure !== undefined) throw failure.error;
  }

  /** Moves the window's overflow to probation's MRU end, oldest first; returns the first moved. */
  private overflowWindow(keep: Node<V>): Node<V> | undefined {
    let candidate: Node<V> | undefined;
    const window = this.window;
    // `keep`, when in the window, is its MRU entry: stopping at it moves everything older.
    while ((window.count > this.windowMaxEntries || window.bytes > this.windowMaxBytes) && window.first() !== keep) {
      const node = window.first()!;
      window.remove(node);
      this.probation.push(node);
      candidate ??= node;
    }
    return candidate;
  }

  private firstExcept(queue: AccessQueue<V>, keep: Node<V>): Node<V> | undefined {
    const node = queue.first();
    return node === keep ? queue.after(node) : node;
  }

  private notifyEvicted(node: Node<V>): { error: unknown } | undefined {
    try {
      this.onEvict?.(node.key, node.value);
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  /** True when the candidate is more popular than the victim (ties keep the victim). */
  private admit(candidate: Node<V>, victim: Node<V>): boolean {
    const candidateFreq = this.sketch.frequencyHash(candidate.hash);
    const victimFreq = this.sketch.frequencyHash(victim.hash);
    if (candidateFreq > victimFreq) return true;
    return candidateFreq >= HASH_DOS_THRESHOLD && Math.random() < HASH_DOS_ADMIT_CHANCE;
  }

  private unlink(node: Node<V>): void {
    node.queue!.remove(node);
    this.map.delete(node.key);
    this.totalBytes -= node.size;
  }
}
