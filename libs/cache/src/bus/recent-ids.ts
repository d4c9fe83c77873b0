import { randomBytes } from 'node:crypto';

/**
 * Ids of the invalidations this instance has applied lately, so that the
 * second copy of one (every invalidation travels on the Redis bus and on the
 * second channel) is not applied again: applying it again would drop the L1
 * entries read since the first copy and stop the loads in flight from
 * storing, for nothing. Bounded: the oldest ids go first, and an id that has
 * gone only makes its late copy applied (the safe side).
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 4_096) {}

  /** True when every one of `ids` was applied here already (false for none). */
  allSeen(ids: readonly string[]): boolean {
    return ids.length > 0 && ids.every((id) => this.ids.has(id));
  }

  add(ids: readonly string[]): void {
    for (const id of ids) {
      this.ids.add(id);
      if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

/** Invalidation ids: unique per instance and across instances (a random prefix, then a counter). */
export class InvalidationIds {
  private readonly prefix = randomBytes(6).toString('base64url');
  private sequence = 0;

  next(): string {
    return `${this.prefix}${(this.sequence++).toString(36)}`;
  }
}
