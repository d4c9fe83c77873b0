import type { RedisClientType } from '@redis/client';
import type { CreateDriverResult, L2CacheDriver } from 'bentocache/types';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the defaults createClient() infers
type NodeRedisClient = RedisClientType<{}, {}, {}, 2, {}>;

/**
 * bentocache's own `redisDriver` needs `ioredis`, an optional peer this
 * project does not install (it uses node-redis). This L2 driver does what
 * that driver does, command for command (GET, SET … PX, GETDEL, UNLINK, SCAN
 * within the prefix), over a connected node-redis client, so bentocache can
 * be measured as L1 memory + L2 Redis without adding a dependency.
 */
export function nodeRedisDriver(options: { client: NodeRedisClient }): CreateDriverResult<NodeRedisL2Driver> {
  return {
    options,
    factory: (config: { client: NodeRedisClient; prefix?: string }) =>
      new NodeRedisL2Driver(config.client, config.prefix),
  };
}

export class NodeRedisL2Driver implements L2CacheDriver {
  readonly type = 'l2' as const;
  private readonly prefix: string;

  constructor(
    private readonly client: NodeRedisClient,
    prefix?: string,
  ) {
    // As bentocache's BaseDriver: trailing colons are dropped, `prefix:key` is the item key.
    this.prefix = (prefix ?? '').replace(/:+$/, '');
  }

  namespace(namespace: string): NodeRedisL2Driver {
    return new NodeRedisL2Driver(this.client, this.prefix ? `${this.prefix}:${namespace}` : namespace);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.itemKey(key))) ?? undefined;
  }

  async pull(key: string): Promise<string | undefined> {
    return (await this.client.getDel(this.itemKey(key))) ?? undefined;
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    const reply = ttl
      ? await this.client.set(this.itemKey(key), value, { expiration: { type: 'PX', value: ttl } })
      : await this.client.set(this.itemKey(key), value);
    return reply === 'OK';
  }

  async clear(): Promise<void> {
    const match = this.prefix ? `${this.prefix}:*` : '*';
    for await (const keys of this.client.scanIterator({ MATCH: match, COUNT: 1000 })) {
      if (keys.length) await this.client.unlink(keys);
    }
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.unlink(this.itemKey(key))) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length) await this.client.unlink(keys.map((k) => this.itemKey(k)));
    return true;
  }

  /** The client belongs to the caller, who closes it. */
  async disconnect(): Promise<void> {}

  private itemKey(key: string): string {
    return this.prefix ? `${this.prefix}:${key}` : key;
  }
}
