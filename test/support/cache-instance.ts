import { Test, type TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { CacheModule, CacheService, type CacheModuleOptions } from '@app/cache';
import { RedisConnection, RedisModule, type RedisModuleOptions } from '@app/redis';
import { TestRedisServer } from './redis-server';

/** One app instance's cache (its own Redis connections), as a test builds it. */
export interface CacheInstance {
  cache: CacheService;
  redis: RedisConnection;
  moduleRef: TestingModule;
  close(): Promise<void>;
}

/** A prefix of its own, so tests can share a Redis server and run in parallel. */
export const uniquePrefix = () => `t${randomBytes(4).toString('hex')}`;

/**
 * Builds a Nest module with `RedisModule` + `CacheModule`, initialised, and a
 * `close` that shuts it down. Several instances on one URL and prefix behave
 * like several app processes.
 */
export async function createCacheInstance(
  redisUrl: string | undefined,
  options: CacheModuleOptions,
  redisOptions: Omit<RedisModuleOptions, 'url'> = {},
): Promise<CacheInstance> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ url: redisUrl, reconnectMaxDelayMs: 300, commandTimeoutMs: 200, ...redisOptions }),
      CacheModule.forRoot({ probeIntervalMs: 100, ...options }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return {
    moduleRef,
    cache: moduleRef.get(CacheService),
    redis: moduleRef.get(RedisConnection),
    close: () => moduleRef.close(),
  };
}

/** Calls of each command seen by a Redis server (INFO commandstats), from an independent connection. */
export async function commandCalls(redis: RedisConnection): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const calls: Record<string, number> = {};
  for (const [key, value] of Object.entries(info)) {
    const match = /^cmdstat_(.+)$/.exec(key);
    const count = /calls=(\d+)/.exec(value);
    if (match && count) calls[match[1]] = Number(count[1]);
  }
  return calls;
}

/** A Redis server of the test's own and `count` cache instances sharing one prefix on it. */
export interface CacheCluster {
  server: TestRedisServer;
  instances: CacheInstance[];
  close(): Promise<void>;
}

export async function startCacheCluster(count: number, options: CacheModuleOptions = {}): Promise<CacheCluster> {
  const server = await TestRedisServer.start();
  const prefix = options.prefix ?? uniquePrefix();
  const instances = await Promise.all(
    Array.from({ length: count }, () => createCacheInstance(server.url, { ...options, prefix })),
  );
  return {
    server,
    instances,
    close: async () => {
      await Promise.all(instances.map((i) => i.close()));
      await server.stop();
    },
  };
}

/**
 * Waits past the current millisecond of Redis's clock. A write's invalidation
 * is stamped with Redis's millisecond, and the late-write guard refuses to
 * cache a value read in that millisecond (the safe side): a test that needs a
 * read right after a write or a clear to be cached waits for this first.
 */
export const pastInvalidationMs = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 3));
