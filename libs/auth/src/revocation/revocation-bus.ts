import { Logger } from '@nestjs/common';
import type { RedisConnection } from '@app/redis';
import type { Revocation } from './revocation-set';

/** Wire form: `[kind, subject, expiresAt]` triples. */
type Wire = Array<[string, string, number]>;

/**
 * Publishes revocations to Redis (the `{prefix}:bl:{jti}` keys, for tools that
 * read Redis, and the `{prefix}:bus:auth` channel) and delivers other
 * instances' revocations. Best effort by design: Postgres is the truth and
 * every instance re-reads it, so a lost message only delays, never loses.
 */
export class RevocationBus {
  private readonly logger = new Logger(RevocationBus.name);
  private subscribed = false;
  private readonly onRaw = (raw: string) => this.receive(raw);

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly deliver: (revocations: Revocation[]) => void,
  ) {}

  /**
   * Subscribed, the subscriber connection is up and Redis counts as
   * available: revocations published now reach this instance. A paused or
   * partitioned server keeps the subscriber's socket open while it delivers
   * nothing; once the connection has counted it unavailable (calls missing
   * their deadlines), the bus vouches for nothing, so Postgres is polled at
   * the uncovered pace.
   */
  get listening(): boolean {
    return this.subscribed && this.redis.subscriberReady && this.redis.available;
  }

  get channel(): string {
    return `${this.prefix}:bus:auth`;
  }

  async subscribe(): Promise<void> {
    if (this.subscribed || !this.redis.subscriberReady) return;
    await this.redis.subscribe(this.channel, this.onRaw);
    this.subscribed = true;
  }

  async unsubscribe(): Promise<void> {
    if (!this.subscribed) return;
    this.subscribed = false;
    await this.redis.unsubscribe([this.channel]).catch(() => undefined);
  }

  /** Never throws: a Redis failure is logged and left to the Postgres poll. */
  async publish(revocations: Revocation[]): Promise<void> {
    // `available`, not `isReady`: with the breaker open a paused server must not hold a logout for its deadlines.
    if (!this.redis.available) return;
    const wire: Wire = revocations.map((r) => [r.kind, r.subject, r.expiresAt]);
    try {
      // One command per key (pipelined by the client): in a cluster, the keys live in different slots.
      const marks = revocations
        .filter((r) => r.kind === 'jti')
        .map((r) =>
          this.redis.run((client) =>
            client.set(`${this.prefix}:bl:${r.subject}`, '1', { expiration: { type: 'PXAT', value: r.expiresAt } }),
          ),
        );
      await Promise.all([...marks, this.redis.publish(this.channel, JSON.stringify(wire))]);
    } catch (error) {
      this.logger.warn(
        `revocation not published to Redis (other instances will read it from Postgres): ${String(error)}`,
      );
    }
  }

  private receive(raw: string): void {
    let wire: unknown;
    try {
      wire = JSON.parse(raw);
    } catch {
      return;
    }
    if (!Array.isArray(wire)) return;
    const revocations = wire.filter(isWireEntry).map(([kind, subject, expiresAt]) => ({ kind, subject, expiresAt }));
    this.deliver(revocations);
  }
}

function isWireEntry(entry: unknown): entry is [Revocation['kind'], string, number] {
  return (
    Array.isArray(entry) &&
    (entry[0] === 'jti' || entry[0] === 'sid') &&
    typeof entry[1] === 'string' &&
    typeof entry[2] === 'number'
  );
}
