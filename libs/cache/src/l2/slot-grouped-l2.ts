import type { RedisConnection } from '@app/redis';
import { CacheArgumentError } from '../cache.errors';
import type { KeyLayout } from '../keys';
import { RedisL2, type L2Read, type L2Store, type L2Write } from './redis-l2';

/**
 * The Redis tier on a cluster: one `RedisL2` per slot group (see
 * `KeyLayout`), each with the group's marker prefix, its own batched `MGET`
 * and its own clock (the clock of the master its keys live on). A key's
 * reads and writes go to its group; `getMany`, `setMany` and `delete` run
 * once per group they touch, in parallel (atomic within a group only); a tag
 * invalidation stamps the tag's marker in every group.
 */
export class SlotGroupedL2 implements L2Store {
  private readonly groups = new Map<string, RedisL2>();

  constructor(
    redis: RedisConnection,
    private readonly keys: KeyLayout,
    markerTtlMs: number,
    tombstoneMs: number,
  ) {
    for (const prefix of keys.markerPrefixes) {
      this.groups.set(prefix, new RedisL2(redis, prefix, markerTtlMs, tombstoneMs));
    }
  }

  async get(key: string, tags?: readonly string[]): Promise<L2Read> {
    return this.of(key).get(key, tags);
  }

  async getScripted(key: string): Promise<L2Read> {
    return this.of(key).getScripted(key);
  }

  async getMany(keys: readonly string[]): Promise<L2Read[]> {
    const reads = new Array<L2Read>(keys.length);
    await this.perGroup(keys, async (group, at) => {
      const part = await group.getMany(at.map((i) => keys[i]));
      at.forEach((i, j) => (reads[i] = part[j]));
    });
    return reads;
  }

  async set(write: L2Write): Promise<boolean> {
    return this.of(write.key).set(write);
  }

  async setMany(writes: readonly L2Write[]): Promise<number> {
    let written = 0;
    await this.perGroup(
      writes.map((w) => w.key),
      async (group, at) => (written += await group.setMany(at.map((i) => writes[i]))),
    );
    return written;
  }

  async setIfAbsent(write: L2Write): Promise<boolean> {
    return this.of(write.key).setIfAbsent(write);
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.perGroup(keys, (group, at) => group.delete(at.map((i) => keys[i])));
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await Promise.all([...this.groups.values()].map((group) => group.invalidateTags(tags)));
  }

  /**
   * The earliest of the groups' estimates (undefined until every group saw
   * its clock): a write guard at or below every master's time refuses at
   * least what each master's own time would.
   */
  serverNow(): number | undefined {
    let earliest: number | undefined;
    for (const group of this.groups.values()) {
      const now = group.serverNow();
      if (now === undefined) return undefined;
      earliest = earliest === undefined ? now : Math.min(earliest, now);
    }
    return earliest;
  }

  private of(key: string): RedisL2 {
    const group = this.groups.get(this.keys.markerPrefixOf(key));
    // Every entry key comes from `KeyLayout.entry`; one without a group's hash tag is a bug, not a miss.
    if (!group) throw new CacheArgumentError(`${key.slice(0, 200)} is not an entry key of a slot group`);
    return group;
  }

  /** Runs `step` once per group of `keys`, with that group's key indexes, in parallel. */
  private async perGroup(keys: readonly string[], step: (group: RedisL2, at: number[]) => Promise<unknown>) {
    const byGroup = new Map<RedisL2, number[]>();
    keys.forEach((key, i) => {
      const group = this.of(key);
      const at = byGroup.get(group);
      if (at) at.push(i);
      else byGroup.set(group, [i]);
    });
    await Promise.all([...byGroup].map(([group, at]) => step(group, at)));
  }
}
