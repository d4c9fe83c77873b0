import { resolveCacheOptions, TieredCache } from '@app/cache';
import { RedisConnection } from '@app/redis';
import { createKeyv as createKeyvRedis } from '@keyv/redis';
import { createClient } from '@redis/client';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import { Cacheable, createKeyv as createKeyvMemory } from 'cacheable';
import { nodeRedisDriver } from './bento-node-redis-driver';
import { MapLru } from './lru';
import type { Payload } from './payload';

/** Every entry of the latency scenarios lives this long (ms); nothing expires during a run. */
export const TTL_MS = 10 * 60_000;

/** Local-tier bound of every contender (entries), our L1's default. */
export const L1_MAX_ENTRIES = 10_000;

/** One process's view of a cache: the read-through call every scenario makes. */
export interface CacheClient {
  /** Undefined only where a peer's typings allow it (cacheable); counted as a wrong value. */
  getOrSet(key: string, loader: () => Promise<Payload>): Promise<Payload | undefined>;
}

/** A cache under test: a writer instance and, when it has a Redis tier, a reader sharing it. */
export interface Contender {
  /** Row label. */
  label: string;
  /** The configuration, in a few words, for the report. */
  config: string;
  /** What its "L1 hit" row really measures, when that is not an in-process hit. */
  l1Note?: string;
  writer: CacheClient;
  /** A second instance on the same Redis and prefix (another process, as far as the cache can tell). */
  reader?: CacheClient;
  close(): Promise<void>;
}

/** Ours: `TieredCache` (W-TinyLFU L1 + Redis L2), as `CacheModule` builds it, with the documented defaults. */
export async function ours(url: string): Promise<Contender> {
  const open = async (name: string) => {
    const redis = new RedisConnection({ url, required: true, clientName: name });
    await redis.onModuleInit();
    const cache = new TieredCache(resolveCacheOptions({ prefix: 'bench-ours', l1MaxEntries: L1_MAX_ENTRIES }), redis);
    await cache.start();
    const client: CacheClient = { getOrSet: (key, loader) => cache.getOrSet('bench', key, loader, { ttl: TTL_MS }) };
    const close = async () => {
      await cache.stop();
      await redis.onApplicationShutdown();
    };
    return { client, close };
  };
  const writer = await open('bench-ours-a');
  const reader = await open('bench-ours-b');
  return {
    label: 'ours (TieredCache)',
    config: `\`getOrSet\`; W-TinyLFU L1 (${L1_MAX_ENTRIES} entries, no copy) + Redis L2 (node-redis; MGET read with tag markers, batched per event-loop turn, SET NX write, Lua scripts as fallback)`,
    writer: writer.client,
    reader: reader.client,
    close: async () => {
      await writer.close();
      await reader.close();
    },
  };
}

/** cache-manager 7 over `@keyv/redis` (the stock Nest setup): one tier, Redis. */
export function cacheManagerRedis(url: string): Contender {
  const open = () => {
    const cache = createCache({ stores: [createKeyvRedis(url, { namespace: 'bench-cm' })] });
    const client: CacheClient = { getOrSet: (key, loader) => cache.wrap(key, loader, TTL_MS) };
    return { client, close: () => cache.disconnect() };
  };
  const writer = open();
  const reader = open();
  return {
    label: 'cache-manager 7 + @keyv/redis',
    config: '`wrap`; `createKeyv(url, { namespace })` from @keyv/redis as the only store',
    l1Note: 'no L1: every read is a Redis GET',
    writer: writer.client,
    reader: reader.client,
    close: async () => {
      await writer.close();
      await reader.close();
    },
  };
}

/** cache-manager 7 with its recommended in-memory store (CacheableMemory), no Redis. */
export function cacheManagerMemory(): Contender {
  const cache = createCache({ stores: [createKeyvMemory({ lruSize: L1_MAX_ENTRIES, useClone: false })] });
  return {
    label: 'cache-manager 7 + memory',
    config: `\`wrap\`; \`createKeyv({ lruSize: ${L1_MAX_ENTRIES}, useClone: false })\` from cacheable, memory only`,
    writer: { getOrSet: (key, loader) => cache.wrap(key, loader, TTL_MS) },
    close: async () => {
      await cache.disconnect();
    },
  };
}

/** cache-manager 7 with two stores, memory then Redis (its README's "layer 1 and layer 2" setup). */
export function cacheManagerTiered(url: string): Contender {
  const open = () => {
    const cache = createCache({
      stores: [
        createKeyvMemory({ lruSize: L1_MAX_ENTRIES, useClone: false }),
        createKeyvRedis(url, { namespace: 'bench-cm2' }),
      ],
    });
    const client: CacheClient = { getOrSet: (key, loader) => cache.wrap(key, loader, TTL_MS) };
    return { client, close: () => cache.disconnect() };
  };
  const writer = open();
  const reader = open();
  return {
    label: 'cache-manager 7 [memory, @keyv/redis]',
    config: `\`wrap\`; stores \`[createKeyv({ lruSize: ${L1_MAX_ENTRIES}, useClone: false }), createKeyv(url)]\``,
    writer: writer.client,
    reader: reader.client,
    close: async () => {
      await writer.close();
      await reader.close();
    },
  };
}

/** cacheable 2: primary CacheableMemory (no clones), secondary `@keyv/redis`, blocking (its default). */
export function cacheable(url: string): Contender {
  const open = () => {
    const cache = new Cacheable({
      primary: createKeyvMemory({ lruSize: L1_MAX_ENTRIES, useClone: false }),
      secondary: createKeyvRedis(url, { namespace: 'bench-cacheable' }),
    });
    const client: CacheClient = { getOrSet: (key, loader) => cache.getOrSet(key, loader, { ttl: TTL_MS }) };
    return { client, close: () => cache.disconnect() };
  };
  const writer = open();
  const reader = open();
  return {
    label: 'cacheable 2',
    config:
      `\`getOrSet\`; primary \`createKeyv({ lruSize: ${L1_MAX_ENTRIES}, useClone: false })\`, ` +
      'secondary `createKeyv(url)` from @keyv/redis, `nonBlocking: false` (default)',
    writer: writer.client,
    reader: reader.client,
    close: async () => {
      await writer.close();
      await reader.close();
    },
  };
}

/** bentocache 1.6: L1 memory driver (serialized, its default) + L2 Redis. */
export async function bentocache(url: string): Promise<Contender> {
  const open = async () => {
    const client = createClient({ url });
    client.on('error', (error: Error) => console.error(`bentocache redis client: ${error.message}`));
    await client.connect();
    const bento = new BentoCache({
      default: 'tiered',
      prefix: 'bench-bento',
      stores: {
        tiered: bentostore()
          .useL1Layer(memoryDriver({ maxItems: L1_MAX_ENTRIES }))
          .useL2Layer(nodeRedisDriver({ client })),
      },
    });
    const cache: CacheClient = { getOrSet: (key, loader) => bento.getOrSet({ key, factory: loader, ttl: TTL_MS }) };
    const close = async () => {
      await bento.disconnectAll();
      await client.close();
    };
    return { cache, close };
  };
  const writer = await open();
  const reader = await open();
  return {
    label: 'bentocache 1.6',
    config:
      `\`getOrSet\`; \`memoryDriver({ maxItems: ${L1_MAX_ENTRIES} })\` (serialize: true, default) + ` +
      'Redis L2 through a node-redis driver (same commands as its ioredis `redisDriver`; ioredis is not installed), no bus',
    writer: writer.cache,
    reader: reader.cache,
    close: async () => {
      await writer.close();
      await reader.close();
    },
  };
}

/**
 * The physical reference: a bare node-redis client, `GET` + `JSON.parse`,
 * and on a miss the loader then `SET key JSON PX ttl` (no tiers, no tags, no
 * invalidation, no stampede protection). What a cache over the same client
 * cannot beat; its rows show how close each one comes.
 */
export async function rawRedis(url: string, kept = false): Promise<Contender> {
  const open = async () => {
    const redis = createClient({ url });
    await redis.connect();
    const memory = kept ? new MapLru<Payload>(L1_MAX_ENTRIES) : undefined;
    const prefix = kept ? 'bench-floor:' : 'bench-raw:';
    const client: CacheClient = {
      getOrSet: async (key, loader) => {
        const held = memory?.get(key);
        if (held !== undefined) return held;
        const text = await redis.get(prefix + key);
        const value = text !== null ? (JSON.parse(text) as Payload) : await loader();
        if (text === null) await redis.set(prefix + key, JSON.stringify(value), { PX: TTL_MS });
        memory?.set(key, value);
        return value;
      },
    };
    return { client, close: () => redis.close() };
  };
  const writer = await open();
  const reader = await open();
  return {
    label: kept
      ? `two-tier floor (reference): raw + values kept in a ${L1_MAX_ENTRIES.toLocaleString('en-US')}-entry Map LRU`
      : 'raw node-redis GET + JSON.parse (reference)',
    config: kept
      ? `the raw client's \`GET\` + \`JSON.parse\`, and every value read or loaded kept in a plain LRU of ${L1_MAX_ENTRIES} entries ` +
        '(`bench/lib/lru.ts`): what any cache with a memory tier does on an L2 hit at the least (no TTL, tags, guards or admission)'
      : 'one node-redis client per instance: `GET` + `JSON.parse`, on a miss `SET … PX`; no L1, tags or guards',
    writer: writer.client,
    reader: reader.client,
    close: async () => {
      await writer.close();
      await reader.close();
    },
  };
}
