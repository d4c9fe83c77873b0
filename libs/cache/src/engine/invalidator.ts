import { Logger } from '@nestjs/common';
import type { BusMessage, CacheBus } from '../bus/cache-bus';
import type { ChannelInvalidation, InvalidationChannel } from '../bus/invalidation-channel';
import { InvalidationIds, RecentIds } from '../bus/recent-ids';
import { InvalidationQueue } from '../invalidation-queue';
import type { EngineContext } from './engine-context';
import type { L1Trust } from './local-tier';
import { DEGRADED_HEARTBEAT_MS, type PeerState } from './peer-state';
import type { RemoteTier } from './remote-tier';

/** Keys per Redis call and bus message when replaying queued invalidations. */
const REPLAY_BATCH = 500;

/** `items` in slices of `REPLAY_BATCH`. */
function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += REPLAY_BATCH) yield items.slice(i, i + REPLAY_BATCH);
}

/** What the invalidator asks of the rest of the engine. */
export interface InvalidatorHooks {
  /** Lock names another instance released (the bus carries them with invalidations). */
  released(names: readonly string[]): void;
  /** Start probing Redis: queued invalidations wait for it. */
  startProbe(): void;
}

/**
 * Every way an entry stops being served: deletes and tag invalidations here,
 * in Redis (tombstones, markers) and on every other instance (the Redis bus,
 * and the second channel when there is one), the queue of those made while
 * Redis was unreachable and their replay, and what the bus and the channel
 * deliver from the other instances. It also says when L1 can be trusted
 * while the bus is unheard (`L1Trust`).
 */
export class Invalidator implements L1Trust {
  private readonly logger = new Logger('TieredCache');
  private readonly pending: InvalidationQueue;
  /** The second invalidation channel (Postgres): every invalidation, and the barrier while the bus is unheard. */
  private channel?: InvalidationChannel;
  /** When this instance last said on the channel that it is degraded. */
  private announcedAt = 0;
  /** Each invalidation's id, the same on the bus and on the channel. */
  private readonly ids = new InvalidationIds();
  /** Invalidations from other instances applied lately: their second copy is ignored. */
  private readonly applied = new RecentIds();

  constructor(
    private readonly ctx: EngineContext,
    private readonly remote: RemoteTier,
    private readonly bus: CacheBus | undefined,
    private readonly hooks: InvalidatorHooks,
    private readonly peers: PeerState,
  ) {
    this.pending = new InvalidationQueue(ctx.options.prefix);
  }

  /** See `TieredCache.useChannel`. */
  async useChannel(channel: InvalidationChannel): Promise<boolean> {
    if (!this.remote.configured || this.channel) return false;
    this.channel = channel;
    await channel.start({
      name: `${this.ctx.options.prefix}:bus`,
      message: (invalidation) => this.onChannelMessage(invalidation),
      resumed: () => {
        // Messages may have been missed in the gap; the Redis bus covered them only if it was heard.
        if (this.remote.breaker.closed) return;
        this.logger.warn('invalidation channel back after a gap: L1 dropped');
        this.dropL1();
      },
    });
    return true;
  }

  async stopChannel(): Promise<void> {
    await this.channel?.stop();
  }

  /** 'listening', 'down', or 'none' (no second channel). */
  get channelState(): 'listening' | 'down' | 'none' {
    if (!this.channel) return 'none';
    return this.channel.listening ? 'listening' : 'down';
  }

  /**
   * True while this instance cannot hear the Redis bus (breaker open) and a
   * second channel exists: an invalidation made elsewhere may be on its way
   * through the channel, so L1 waits for the channel's barrier.
   */
  needsBarrier(): boolean {
    return this.channel !== undefined && (!this.remote.breaker.closed || this.peers.degraded);
  }

  /** True while some other instance has said it cannot reach Redis (see `PeerState`). */
  get peerDegraded(): boolean {
    return this.peers.degraded;
  }

  /**
   * While this instance cannot reach Redis, it says so on the channel: at
   * once when its breaker opens (`now`), then at most every second (the
   * probe calls this). The others stop reading L2 and pass the barrier.
   */
  async announceDegraded(now = false): Promise<void> {
    if (!this.channel || !this.remote.configured || this.remote.available) return;
    if (!now && Date.now() - this.announcedAt < DEGRADED_HEARTBEAT_MS) return;
    this.announcedAt = Date.now();
    await this.sendOnChannel({ keys: [], tags: [], degraded: true });
  }

  async passBarrier(): Promise<boolean> {
    try {
      await this.channel!.barrier();
      return true;
    } catch (error) {
      this.logger.debug(`invalidation channel barrier failed, L1 not trusted: ${String(error)}`);
      return false;
    }
  }

  /** Deletes entries everywhere: L1 here and on every instance, L2 (a tombstone). */
  async delete(namespace: string, fulls: string[]): Promise<void> {
    const { l1, stats, tracker } = this.ctx;
    const started = performance.now();
    for (const full of fulls) {
      if (l1.delete(full)) stats.count(namespace, 'l1', 'deletes');
    }
    stats.duration('delete', 'l1', started);
    tracker.note(fulls, []);
    await this.invalidateRemote('delete', { keys: fulls, tags: [] }, namespace);
  }

  /** Every entry carrying one of `tags` (already made safe) becomes a miss on every instance. */
  async invalidateTags(tags: string[]): Promise<void> {
    const { l1, stats, tracker } = this.ctx;
    const started = performance.now();
    l1.deleteTagged(tags);
    stats.duration('invalidate', 'l1', started);
    tracker.note([], tags);
    await this.invalidateRemote('invalidate', { keys: [], tags }, undefined);
  }

  /** Loads in flight for these keys must not store what they read before this write. */
  noteWritten(fulls: readonly string[]): void {
    this.ctx.tracker.note(fulls, []);
  }

  /**
   * Other instances must drop their L1 copies of written keys. While Redis is
   * out, the write reached neither L2 nor them: queue a delete of those keys
   * for replay, so the older L2 value cannot come back after recovery.
   */
  async announceWrite(fulls: string[]): Promise<void> {
    if (!this.remote.configured) return;
    if (!this.remote.available) this.pending.add(fulls, []);
    const id = this.ids.next();
    await Promise.all([this.broadcast({ keys: fulls, id }), this.sendOnChannel({ keys: fulls, tags: [], ids: [id] })]);
  }

  /**
   * A failed explicit write (see `TieredCache.mset`): this L1 drops the keys,
   * the probe replays their deletes (even with the breaker closed), and the
   * other instances drop their older copies now, through the second channel.
   */
  async abandonWrite(fulls: string[]): Promise<void> {
    for (const full of fulls) this.ctx.l1.delete(full);
    this.pending.add(fulls, []);
    this.hooks.startProbe();
    await this.sendOnChannel({ keys: fulls, tags: [] });
  }

  /** Publishes on the Redis bus (waiting for the other instances' acknowledgements unless told not to). */
  async broadcast(message: BusMessage, waitForAcks = true): Promise<void> {
    if (!this.bus || !this.remote.available) return;
    await this.bus.publish(message, waitForAcks).catch((error: unknown) => {
      this.logger.debug(`bus publish failed: ${String(error)}`);
    });
  }

  /** What the Redis bus delivers from another instance. */
  onBusMessage(
    message: Readonly<Pick<BusMessage, 'released' | 'id'>> & { keys?: readonly string[]; tags?: readonly string[] },
  ): void {
    if (message.id !== undefined) {
      if (this.applied.allSeen([message.id])) return this.releasedOnly(message);
      this.applied.add([message.id]);
    }
    this.apply(message);
  }

  private releasedOnly(message: Readonly<Pick<BusMessage, 'released'>>): void {
    if (message.released) this.hooks.released(message.released);
  }

  private apply(
    message: Readonly<Pick<BusMessage, 'released'>> & { keys?: readonly string[]; tags?: readonly string[] },
  ): void {
    const { l1, tracker } = this.ctx;
    const keys = message.keys ?? [];
    const tags = message.tags ?? [];
    for (const key of keys) l1.delete(key);
    if (tags.length) l1.deleteTagged(tags);
    if (keys.length || tags.length) tracker.note(keys, tags);
    if (message.released) this.hooks.released(message.released);
  }

  /** Drops every L1 entry; loads in flight do not store theirs (they may predate a missed invalidation). */
  dropL1(): void {
    this.ctx.l1.clear();
    this.ctx.tracker.noteAll();
  }

  /**
   * Sends the invalidations made while Redis was unreachable (or after a
   * failed write), in batches, and applies them to this L1 too: a copy read
   * from L2 in between must go, and the bus does not echo to its sender.
   * On failure they stay queued.
   */
  async replayPending(): Promise<void> {
    const l2 = this.remote.l2!;
    const { keys, tags } = this.pending.drain();
    try {
      // In batches: a long outage can queue many thousands of tags, and one script or one bus message
      // of them all could outlast the command deadline on every probe, so the replay would never end.
      for (const batch of batches(tags)) await l2.invalidateTags(batch);
      for (const batch of batches(keys)) await l2.delete(batch);
      for (const batch of batches(tags)) await this.bus?.publish({ tags: batch });
      for (const batch of batches(keys)) await this.bus?.publish({ keys: batch });
    } catch (error) {
      this.pending.add(keys, tags);
      throw error;
    }
    const { l1, tracker } = this.ctx;
    for (const key of keys) l1.delete(key);
    l1.deleteTagged(tags);
    tracker.note(keys, tags);
  }

  /** L2 tombstones/markers and the bus; queued for replay when Redis is unreachable. */
  private async invalidateRemote(
    operation: 'delete' | 'invalidate',
    invalidation: { keys: string[]; tags: string[] },
    namespace: string | undefined,
  ): Promise<void> {
    if (!this.remote.configured) return;
    if (!this.remote.available) {
      this.pending.add(invalidation.keys, invalidation.tags);
      return this.sendOnChannel(invalidation);
    }
    try {
      const started = performance.now();
      await this.remote.invalidate(invalidation.keys, invalidation.tags);
      this.ctx.stats.duration(operation, 'l2', started);
      if (namespace) this.ctx.stats.count(namespace, 'l2', 'deletes');
    } catch (error) {
      this.logger.warn(`invalidation deferred until Redis answers: ${String(error)}`);
      this.pending.add(invalidation.keys, invalidation.tags);
      // L2 may still hold what this invalidated, whatever the reason (a deadline, or an error reply such
      // as OOM, which the breaker does not count): open it now, so that this instance stops reading L2,
      // the other instances hear it is degraded (they stop trusting L2 too), and the probe replays.
      this.remote.breaker.trip();
      return this.sendOnChannel(invalidation);
    }
    const id = this.ids.next();
    await Promise.all([this.broadcast({ ...invalidation, id }), this.sendOnChannel({ ...invalidation, ids: [id] })]);
  }

  /**
   * Sends an invalidation through the second channel too, before the write
   * returns, whatever this instance's view of Redis: the Redis bus reaches
   * only the instances subscribed at that moment, and one that cannot hear
   * it (its breaker open) trusts its L1 only up to the channel's barrier.
   * When the channel fails, the instances that cannot hear the bus learn of
   * the invalidation only when Redis is back (queued replay, reconnect rule),
   * so it is logged as an error.
   */
  private async sendOnChannel(invalidation: ChannelInvalidation): Promise<void> {
    if (!this.channel) return;
    // Sent while this instance cannot reach Redis: the others must not trust L2 for what it invalidates.
    const degraded = invalidation.degraded === true || (this.remote.configured && !this.remote.available);
    if (invalidation.keys.length === 0 && invalidation.tags.length === 0 && !degraded) return;
    try {
      await this.channel.publish(degraded ? { ...invalidation, degraded: true } : invalidation);
    } catch (error) {
      this.logger.error(`invalidation not sent on the channel: ${String(error)}`);
    }
  }

  private onChannelMessage(invalidation: ChannelInvalidation): void {
    if (invalidation.degraded) this.peers.noteDegraded();
    if (invalidation.all) {
      this.dropL1();
      return;
    }
    // Its copy on the bus got here first (the usual case): applying it again would only undo the reads since.
    const ids = invalidation.ids ?? [];
    if (this.applied.allSeen(ids)) return;
    this.applied.add(ids);
    this.apply(invalidation);
  }
}
