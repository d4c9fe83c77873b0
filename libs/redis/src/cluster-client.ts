import type { RedisClusterType } from '@redis/client';
import type { RedisClusterOptions } from './redis.options';

/** node-redis v5's cluster client with the defaults `createCluster()` infers. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the defaults createCluster() infers
export type RedisClusterClient = RedisClusterType<{}, {}, {}, 2, {}>;

/** `cluster via host:port,host:port`, for logs and status pages (no credentials). */
export function describeCluster(options: Pick<RedisClusterOptions, 'nodes'>): string {
  return `cluster via ${options.nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',')}`;
}

/**
 * `INFO` fields that are counts or sizes of one node: a cluster's figure is
 * the sum over its masters (replicas hold copies, and are not asked).
 */
const SUMMED = new Set([
  'connected_clients',
  'blocked_clients',
  'used_memory',
  'used_memory_rss',
  'maxmemory',
  'total_connections_received',
  'total_commands_processed',
  'instantaneous_ops_per_sec',
  'rejected_connections',
  'expired_keys',
  'evicted_keys',
  'keyspace_hits',
  'keyspace_misses',
  'pubsub_channels',
  'pubsub_shardchannels',
  'total_net_input_bytes',
  'total_net_output_bytes',
]);

/**
 * One `INFO` view of several masters: counts and sizes summed, `db0`'s
 * `keys=` summed, every other field as the first master reports it, and
 * `cluster_masters` added.
 */
export function mergeClusterInfo(infos: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const merged: Record<string, string> = { ...infos[0] };
  for (const field of Object.keys(merged)) {
    if (SUMMED.has(field)) {
      merged[field] = String(infos.reduce((sum, info) => sum + (Number(info[field]) || 0), 0));
    }
  }
  // Human-readable copies of a summed size would show the first master's: dropped, but for memory's.
  for (const field of Object.keys(merged)) if (field.endsWith('_human')) delete merged[field];
  if (merged.used_memory !== undefined) merged.used_memory_human = humanBytes(Number(merged.used_memory));
  const keys = infos.reduce((sum, info) => sum + (Number(/keys=(\d+)/.exec(info.db0 ?? '')?.[1]) || 0), 0);
  if (merged.db0 !== undefined || keys > 0) merged.db0 = `keys=${keys}`;
  merged.cluster_masters = String(infos.length);
  return merged;
}

/** Bytes as Redis's `used_memory_human` writes them (`1.50M`). */
function humanBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(2)}${units[unit]}`;
}
