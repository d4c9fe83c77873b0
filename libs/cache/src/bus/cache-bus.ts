import { Logger } from '@nestjs/common';
import type { RedisConnection } from '@app/redis';
import { randomUUID } from 'node:crypto';
import type { BusDirection } from '../cache-stats';
import type { KeyLayout } from '../keys';

/** An invalidation (or fill notice) sent between instances. */
export interface BusMessage {
  /** Entry keys (full Redis keys) to drop from L1. */
  keys?: string[];
  /** Tags whose entries must be dropped from L1. */
  tags?: string[];
  /** Locks just released (safe names, see `DistributedLock`): wakes the instances waiting for them. */
  released?: string[];
  /**
   * The invalidation's id, the same on the bus and on the second channel:
   * a receiver applies whichever copy reaches it first and ignores the other.
   * Also the message id acknowledged by receivers. Generated when absent.
   */
  id?: string;
}

interface WireMessage extends Omit<BusMessage, 'id'> {
  /** Origin instance id. */
  o: string;
  /** Message id, acknowledged by receivers when `a` is set. */
  i: string;
  a?: 1;
}

/**
 * Pub/sub between instances on `{prefix}:bus`. An invalidation is published
 * with an acknowledgement request: every other instance drops the matching L1
 * entries, then answers on the sender's ack channel (the sender's own
 * subscriber answers without acting), and `publish` resolves
 * once all receivers counted by PUBLISH have answered (or after
 * `ackTimeoutMs`, when one of them is stalled — its L1 is then covered by the
 * reconnect rule). So when `delete`/`invalidateTags` returns, no live instance
 * still serves the old value from L1.
 */
export class CacheBus {
  private readonly logger = new Logger(CacheBus.name);
  readonly instanceId = randomUUID();
  private readonly pending = new Map<string, { remaining: number; done: () => void }>();
  private subscribed = false;
  /** Messages sent, received from other instances, and ignored (this instance's own echo) since start. */
  readonly counts = { published: 0, received: 0, ignored: 0 };

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly ackTimeoutMs: number,
    private readonly onMessage: (message: BusMessage) => void,
    /** Told of every message counted (metrics). */
    private readonly onCount: (direction: BusDirection) => void = () => undefined,
  ) {}

  // Bound once: a retried subscribe must not register a second listener.
  private readonly onBus = (raw: string) => this.receive(raw);
  private readonly onAck = (id: string) => this.acknowledged(id);

  /** Subscribes to the bus and to this instance's ack channel (under the command deadline). */
  async start(): Promise<void> {
    if (this.subscribed) return;
    await this.redis.subscribe(this.keys.bus, this.onBus);
    await this.redis.subscribe(this.keys.ack(this.instanceId), this.onAck);
    this.subscribed = true;
  }

  async stop(): Promise<void> {
    if (!this.subscribed) return;
    this.subscribed = false;
    for (const { done } of this.pending.values()) done();
    this.pending.clear();
    try {
      const channels = [this.keys.bus, this.keys.ack(this.instanceId)];
      await this.redis.unsubscribe(channels);
    } catch {
      // The connection is closing or gone: nothing left to unsubscribe from.
    }
  }

  /** Publishes and, for invalidations, waits for every receiver's acknowledgement (bounded). */
  async publish(message: BusMessage, waitForAcks = true): Promise<void> {
    const { id = randomUUID(), ...content } = message;
    const wire: WireMessage = { ...content, o: this.instanceId, i: id, ...(waitForAcks && { a: 1 }) };
    const acked = waitForAcks ? this.expectAcks(id) : undefined;
    try {
      const receivers = await this.redis.publish(this.keys.bus, JSON.stringify(wire));
      this.counted('published');
      // PUBLISH counts every subscriber that got it, this instance's own
      // included, and every one of them acknowledges (this one without
      // acting on it): the count is exact whatever the state of our own
      // subscriber connection.
      acked?.expect(receivers);
      await acked?.promise;
    } finally {
      this.pending.delete(id);
    }
  }

  private expectAcks(id: string) {
    let expect!: (count: number) => void;
    const promise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        const state = this.pending.get(id);
        if (state && state.remaining > 0)
          this.logger.warn(`${state.remaining} instance(s) did not acknowledge an invalidation`);
        resolve();
      }, this.ackTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // Acks may arrive before PUBLISH's reply: count them down from 0.
      this.pending.set(id, { remaining: 0, done });
      expect = (count: number) => {
        const state = this.pending.get(id);
        if (!state) return;
        state.remaining += count;
        if (state.remaining <= 0) done();
      };
    });
    return { promise, expect };
  }

  private acknowledged(id: string): void {
    const state = this.pending.get(id);
    if (!state) return;
    state.remaining--;
    if (state.remaining <= 0) state.done();
  }

  private counted(direction: BusDirection): void {
    this.counts[direction]++;
    this.onCount(direction);
  }

  private receive(raw: string): void {
    let message: WireMessage;
    try {
      message = JSON.parse(raw) as WireMessage;
    } catch {
      this.logger.warn('ignored a malformed bus message');
      return;
    }
    // Our own message: this instance already applied it before publishing
    // (and a set must not drop the value it just stored).
    if (message.o === this.instanceId) {
      this.counted('ignored');
    } else {
      this.counted('received');
      this.onMessage({ keys: message.keys, tags: message.tags, released: message.released, id: message.i });
    }
    if (message.a) {
      this.redis
        .publish(this.keys.ack(message.o), message.i)
        .catch((error: unknown) => this.logger.debug(`ack failed: ${String(error)}`));
    }
  }
}
