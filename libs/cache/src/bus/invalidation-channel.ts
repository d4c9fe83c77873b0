/** An invalidation carried by a second channel: full entry keys and tags to drop from L1, or everything. */
export interface ChannelInvalidation {
  keys: readonly string[];
  tags: readonly string[];
  /** Drop every L1 entry (sent when the keys and tags do not fit the channel's message size). */
  all?: boolean;
  /**
   * The sender cannot reach Redis: this invalidation reached neither L2 nor
   * the bus (see `PeerState`). Also sent alone, with no keys or tags, when
   * its breaker opens and every second while it stays open.
   */
  degraded?: boolean;
  /**
   * Ids of the invalidations this message carries (a channel may merge
   * several), the same ids as their copies on the Redis bus
   * (`BusMessage.id`): a receiver that applied all of them already ignores
   * the message. Absent or empty: always applied.
   */
  ids?: readonly string[];
}

/** What the cache gives a channel when it starts it. */
export interface ChannelListener {
  /** Channel name, derived from the cache prefix: instances sharing a prefix share the channel. */
  readonly name: string;
  /** Another instance's invalidation (a channel never delivers an instance its own messages). */
  message(invalidation: ChannelInvalidation): void;
  /**
   * The channel is listening again after a gap in which messages may have
   * been lost (a dropped connection): the cache drops its L1.
   */
  resumed(): void;
}

/**
 * A second way for invalidations to reach other instances, independent of
 * Redis. Every invalidation goes through it as well as through the Redis bus
 * (which reaches only the instances subscribed at that moment). An
 * implementation must deliver every message published after `start` to every
 * listening instance, in order, and offer a read barrier: `barrier()`
 * resolves only once every message whose `publish` had resolved (on any
 * instance) before the call has been handed to `message`. While an instance
 * cannot hear the Redis bus (its breaker open) it serves an L1 entry only
 * after a barrier, so it never reads what another has already invalidated.
 *
 * `PostgresInvalidationChannel` (`@app/query-cache`) is the implementation:
 * Postgres LISTEN/NOTIFY, the database every instance already shares.
 */
export interface InvalidationChannel {
  start(listener: ChannelListener): Promise<void>;
  /** Sends to every other instance; resolves once the message is committed to the channel. */
  publish(invalidation: ChannelInvalidation): Promise<void>;
  /** See the interface. Rejects when delivery cannot be proven (not listening, deadline missed). */
  barrier(): Promise<void>;
  stop(): Promise<void>;
  /** True while listening (messages are being received). */
  readonly listening: boolean;
}
