import { Injectable, Module } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Test, type TestingModule } from '@nestjs/testing';
import { createClient } from '@redis/client';
import type { Cache } from 'cache-manager';
import { Cached, CacheModule, CacheService, InjectCache, type NamespacedCache } from '@app/cache';
import { RedisModule } from '@app/redis';
import { commandCalls, createCacheInstance, uniquePrefix } from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

@Injectable()
class UsersService {
  loads = 0;

  constructor(@InjectCache('users') readonly cache: NamespacedCache) {}

  @Cached({ namespace: 'users', key: (id: number) => `user:${id}`, tags: (id: number) => [`user:${id}`], ttl: 60_000 })
  find(id: number): Promise<{ id: number; loads: number }> {
    this.loads++;
    return Promise.resolve({ id, loads: this.loads });
  }
}

@Module({ imports: [CacheModule.forFeature(['users'])], providers: [UsersService] })
class UsersModule {}

describe('CacheModule in a Nest application', () => {
  let server: TestRedisServer;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    server = await TestRedisServer.start();
    moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: server.url }), CacheModule.forRoot({ prefix: uniquePrefix() }), UsersModule],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await server?.stop();
  });

  it('caches a @Cached method by its key and invalidates it by its tag', async () => {
    const users = moduleRef.get(UsersService);
    expect(await users.find(1)).toEqual({ id: 1, loads: 1 });
    expect(await users.find(1)).toEqual({ id: 1, loads: 1 });
    expect(await users.find(2)).toEqual({ id: 2, loads: 2 });
    await moduleRef.get(CacheService).invalidateTags(['user:1']);
    expect(await users.find(1)).toEqual({ id: 1, loads: 3 });
  });

  it('injects the namespace cache with @InjectCache, the same view as cache.namespace()', async () => {
    const users = moduleRef.get(UsersService);
    expect(users.cache).toBe(moduleRef.get(CacheService).namespace('users'));
    expect(await users.cache.get('user:2')).toEqual({ id: 2, loads: 2 });
  });

  it("keeps Nest's standard CACHE_MANAGER working, on Redis inside the prefix", async () => {
    const manager = moduleRef.get<Cache>(CACHE_MANAGER);
    await manager.set('legacy', { ok: true }, 10_000);
    expect(await manager.get('legacy')).toEqual({ ok: true });
    const prefix = moduleRef.get(CacheService).redisKey('x', 'y').split(':')[0];
    const keys = createClient({ url: server.url });
    await keys.connect();
    try {
      expect(await keys.keys(`${prefix}:cm*`)).toHaveLength(1);
    } finally {
      keys.destroy();
    }
  });
});

describe('CACHE_MANAGER with Redis paused', () => {
  it('answers within the deadline (a miss), then skips Redis while the breaker is open, and recovers', async () => {
    const server = await TestRedisServer.start();
    // commandTimeoutMs 200, breaker threshold 3 (see createCacheInstance).
    const instance = await createCacheInstance(server.url, { prefix: uniquePrefix() });
    const manager = instance.moduleRef.get<Cache>(CACHE_MANAGER);
    let hangTimer: NodeJS.Timeout | undefined;
    try {
      await manager.set('legacy', 'v', 60_000);
      expect(await manager.get('legacy')).toBe('v');
      const getsBefore = (await commandCalls(instance.redis)).get ?? 0;
      server.pause();
      try {
        const hung = new Promise((r) => (hangTimer = setTimeout(() => r('hung'), 2_000)));
        // Three deadlines missed: a miss each, and the breaker opens.
        for (let i = 0; i < 3; i++) expect(await Promise.race([manager.get('legacy'), hung])).toBeUndefined();
        expect(instance.cache.status().breaker).toBe('open');
        // Now nothing is sent: reads miss and writes are dropped at once.
        for (let i = 0; i < 20; i++) expect(await Promise.race([manager.get('legacy'), hung])).toBeUndefined();
        expect(await Promise.race([manager.set('other', 'x', 60_000), hung])).toBe('x');
      } finally {
        server.resume();
      }
      await waitFor(() => instance.cache.status().usingRedis, 5_000, 'the breaker to close');
      expect(await manager.get('legacy')).toBe('v');
      // The three timed-out GETs reached Redis after SIGCONT; the 20 made while the breaker was open never did.
      expect((await commandCalls(instance.redis)).get).toBe(getsBefore + 4);
      expect(await manager.get('other')).toBeUndefined();
    } finally {
      clearTimeout(hangTimer);
      await instance.close();
      await server.stop();
    }
  });
});
