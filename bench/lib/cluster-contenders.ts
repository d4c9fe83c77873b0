import { resolveCacheOptions, TieredCache } from '@app/cache';
import { RedisConnection } from '@app/redis';
import KeyvRedis from '@keyv/redis';
import { createCluster } from '@redis/client';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { L1_MAX_ENTRIES, TTL_MS, type CacheClient, type Contender } from './contenders';
import type { Payload } from './payload';

/** Cluster nodes as `{ host, port }`. */
export type ClusterNodes = ReadonlyArray<{ host: string; port: number }>;

/** Two instances of a contender (writer, reader), each with its own connections. */
async function pair(
  open: () => Promise<{ client: CacheClient; close: () => Promise<unknown> }>,
  label: string,
  config: string,
): Promise<Contender> {
  const writer = await open();
  const reader = await open();
  return {
    label,
    config,
    writer: writer.client,
    reader: reader.client,
    close: async () => {
      await writer.close();
      await reader.close();
    },
  };
}

/** Our TieredCache on `REDIS_CLUSTER_NODES`: slot groups, the read script per L2 read, sharded bus. */
export function oursOnCluster(nodes: ClusterNodes): Promise<Contender> {
  return pair(
    async () => {
      const redis = new RedisConnection({ cluster: { nodes }, required: true, clientName: 'bench-ours' });
      await redis.onModuleInit();
      const cache = new TieredCache(resolveCacheOptions({ prefix: 'bench-ours', l1MaxEntries: L1_MAX_ENTRIES }), redis);
      await cache.start();
      return {
        client: { getOrSet: (key, loader) => cache.getOrSet('bench', key, loader, { ttl: TTL_MS }) },
        close: async () => {
          await cache.stop();
          await redis.onApplicationShutdown();
        },
      };
    },
    'ours (TieredCache)',
    `\`getOrSet\`; W-TinyLFU L1 (${L1_MAX_ENTRIES} entries) + Redis Cluster L2 (node-redis cluster client; 16 slot groups, one batched MGET per group and event-loop turn, SET NX or the write script per write)`,
  );
}

/** cache-manager 7 over `@keyv/redis` given the cluster's nodes (it creates the cluster client). */
export function cacheManagerOnCluster(nodes: ClusterNodes): Promise<Contender> {
  return pair(
    () => {
      const store = new KeyvRedis({ rootNodes: nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) });
      const cache = createCache({ stores: [new Keyv({ store, namespace: 'bench-cm' })] });
      return Promise.resolve({
        client: { getOrSet: (key, loader) => cache.wrap(key, loader, TTL_MS) },
        close: () => cache.disconnect(),
      });
    },
    'cache-manager 7 + @keyv/redis',
    '`wrap`; `new KeyvRedis({ rootNodes })` (a node-redis cluster client) as the only store',
  );
}

/** The reference: node-redis's cluster client, `GET` + `JSON.parse`, `SET … PX` on a miss. */
export function rawCluster(nodes: ClusterNodes): Promise<Contender> {
  return pair(
    async () => {
      const cluster = createCluster({ rootNodes: nodes.map(({ host, port }) => ({ socket: { host, port } })) });
      await cluster.connect();
      return {
        client: {
          getOrSet: async (key, loader) => {
            const text = await cluster.get(`bench-raw:${key}`);
            if (text !== null) return JSON.parse(text) as Payload;
            const value = await loader();
            await cluster.set(`bench-raw:${key}`, JSON.stringify(value), { PX: TTL_MS });
            return value;
          },
        },
        close: () => cluster.close(),
      };
    },
    'raw node-redis cluster GET + JSON.parse (reference)',
    'one node-redis cluster client per instance: `GET` + `JSON.parse`, on a miss `SET … PX`; no L1, tags or guards',
  );
}
