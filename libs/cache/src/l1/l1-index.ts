import type { L1Entry } from '../cache-entry';
import { WTinyLfu, type WTinyLfuOptions } from './w-tiny-lfu';

/**
 * L1: the W-TinyLFU store plus a tag → keys index, so invalidating a tag
 * touches only the entries that carry it instead of scanning L1.
 */
export class L1Index {
  private readonly store: WTinyLfu<L1Entry>;
  private readonly byTag = new Map<string, Set<string>>();

  constructor(options: WTinyLfuOptions) {
    this.store = new WTinyLfu<L1Entry>(options);
    this.store.onEvict = (key, entry) => this.unindex(key, entry);
  }

  get size(): number {
    return this.store.size;
  }

  get bytes(): number {
    return this.store.bytes;
  }

  /** Every key with its size (O(n); see `WTinyLfu.sizes`). */
  sizes(): IterableIterator<[key: string, size: number]> {
    return this.store.sizes();
  }

  get(key: string): L1Entry | undefined {
    return this.store.get(key);
  }

  peek(key: string): L1Entry | undefined {
    return this.store.peek(key);
  }

  set(key: string, entry: L1Entry, bytes: number): void {
    const previous = this.store.peek(key);
    if (previous) this.unindex(key, previous);
    if (!this.store.set(key, entry, bytes)) return;
    for (const tag of entry.tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  delete(key: string): boolean {
    const entry = this.store.peek(key);
    if (!entry) return false;
    this.unindex(key, entry);
    return this.store.delete(key);
  }

  deleteTagged(tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) this.delete(key);
      this.byTag.delete(tag);
    }
  }

  clear(): void {
    this.store.clear();
    this.byTag.clear();
  }

  private unindex(key: string, entry: L1Entry): void {
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }
}
