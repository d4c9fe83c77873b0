import { namespaceTag } from './keys';

/** Invalidations to replay, merged. */
export interface QueuedInvalidations {
  keys: string[];
  tags: string[];
}

/**
 * Invalidations made while Redis was unreachable, replayed when it returns.
 * Merged into sets; past `maxKeys` keys, the keys are replaced by their
 * namespaces' implicit tags, which invalidates more than needed but never
 * less: the queue never fails open.
 */
export class InvalidationQueue {
  private keys = new Set<string>();
  private readonly tags = new Set<string>();

  constructor(
    private readonly prefix: string,
    private readonly maxKeys = 10_000,
  ) {}

  get size(): number {
    return this.keys.size + this.tags.size;
  }

  add(keys: readonly string[], tags: readonly string[]): void {
    for (const t of tags) this.tags.add(t);
    for (const k of keys) this.keys.add(k);
    if (this.keys.size > this.maxKeys) this.collapse();
  }

  /** Everything queued; the queue is emptied (re-add on failure). */
  drain(): QueuedInvalidations {
    const drained = { keys: [...this.keys], tags: [...this.tags] };
    this.keys = new Set();
    this.tags.clear();
    return drained;
  }

  private collapse(): void {
    const entryPrefix = `${this.prefix}:c:`;
    for (const key of this.keys) {
      const namespace = key.slice(entryPrefix.length).split(':')[0];
      this.tags.add(namespaceTag(namespace));
    }
    this.keys.clear();
  }
}
