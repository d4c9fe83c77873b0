import { CacheArgumentError } from './cache.errors';
import { jsonSerializer, type Serializer } from './serialization/serializer';

/** Where entries live. */
export type CacheBackend = 'auto' | 'redis' | 'memory';

/** Options of `CacheModule` (and of `TieredCache`). Times are milliseconds, as in cache-manager 7. */
export interface CacheModuleOptions {
  /**
   * `auto`: Redis when reachable, L1 alone when not; `redis`: Redis required;
   * `memory`: L1 only, no Redis traffic.
   * @default 'auto'
   */
  backend?: CacheBackend;
  /** Prefix of every Redis key and channel. @default 'bp' */
  prefix?: string;
  /** L1 bound in entries. @default 10_000 */
  l1MaxEntries?: number;
  /** L1 bound in bytes (serialized size). @default 64 MiB */
  l1MaxBytes?: number;
  /** Default time to live. @default 300_000 (5 minutes) */
  defaultTtlMs?: number;
  /** Default grace window after expiry (stale-if-error). @default 0 */
  defaultGraceMs?: number;
  /**
   * Random reduction of each TTL, as a fraction (0.1 = up to 10 % shorter), so
   * entries filled together do not expire together.
   * @default 0.1
   */
  ttlJitter?: number;
  /** Largest serialized entry; larger values are refused. @default 1 MiB */
  maxEntryBytes?: number;
  /** Longest TTL + grace accepted; also the lifetime of tag markers. @default 7 days */
  maxTtlMs?: number;
  /**
   * Version of the cached shapes. Entries written under another version are
   * misses, so a deploy that changes a shape never reads the old one.
   * @default '1'
   */
  schemaVersion?: string;
  /** Consecutive L2 failures that open the breaker. @default 3 */
  breakerThreshold?: number;
  /** Interval of the background probe while the breaker is open. @default 500 */
  probeIntervalMs?: number;
  /** How long `delete`/`invalidateTags` wait for other instances' acknowledgements. @default 250 */
  busAckTimeoutMs?: number;
  /**
   * Lease of a `DistributedLock` (the loader's included) when `acquire` is
   * given no `ttlMs`; renewed every third of it while held. @default 10_000
   */
  lockLeaseMs?: number;
  /**
   * How long `acquire` waits when given no `waitMs`, and how long an
   * instance waits for another's loader before loading itself. @default 5_000
   */
  lockWaitMs?: number;
  /**
   * While waiting for a lock, it is tried again this often: the fallback for
   * a lost release notice (waiters are woken by the bus). @default 500
   */
  lockPollMs?: number;
  /** Lifetime of delete tombstones (guards against late writes of loaders started before). @default 60_000 */
  tombstoneMs?: number;
  /** Value codec. @default jsonSerializer (tagged JSON: Date, BigInt, Map, Set, Buffer) */
  serializer?: Serializer;
  /**
   * On a Redis Cluster only: entries are spread over this many slot groups,
   * each with its own copy of the tag invalidation markers, so that a read
   * script finds an entry's markers in the entry's slot (see `KeyLayout`).
   * A tag invalidation writes one marker per group. Every instance must use
   * the same value; more groups spread entries over more masters. 1-1024.
   * @default 16
   */
  clusterSlotGroups?: number;
}

/** Options with every default applied. */
export type ResolvedCacheOptions = Required<CacheModuleOptions>;

/** Applies the documented defaults. */
export function resolveCacheOptions(options: CacheModuleOptions): ResolvedCacheOptions {
  // Both end up inside Redis keys and the L2 entry header.
  if (options.prefix !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(options.prefix)) {
    throw new CacheArgumentError('prefix must be 1-32 characters of A-Z a-z 0-9 _ -');
  }
  if (options.schemaVersion !== undefined && !/^[A-Za-z0-9._-]{1,32}$/.test(options.schemaVersion)) {
    throw new CacheArgumentError('schemaVersion must be 1-32 characters of A-Z a-z 0-9 . _ -');
  }
  // A jitter outside 0..1 would make TTLs NaN or longer than maxTtlMs: refused at boot, not at the first write.
  if (options.ttlJitter !== undefined && !(options.ttlJitter >= 0 && options.ttlJitter <= 1)) {
    throw new CacheArgumentError(`ttlJitter must be between 0 and 1, got ${options.ttlJitter}`);
  }
  const groups = options.clusterSlotGroups;
  if (groups !== undefined && !(Number.isInteger(groups) && groups >= 1 && groups <= 1024)) {
    throw new CacheArgumentError(`clusterSlotGroups must be an integer from 1 to 1024, got ${groups}`);
  }
  return {
    backend: options.backend ?? 'auto',
    prefix: options.prefix ?? 'bp',
    l1MaxEntries: options.l1MaxEntries ?? 10_000,
    l1MaxBytes: options.l1MaxBytes ?? 64 * 1024 * 1024,
    defaultTtlMs: options.defaultTtlMs ?? 300_000,
    defaultGraceMs: options.defaultGraceMs ?? 0,
    ttlJitter: options.ttlJitter ?? 0.1,
    maxEntryBytes: options.maxEntryBytes ?? 1024 * 1024,
    maxTtlMs: options.maxTtlMs ?? 7 * 24 * 3600 * 1000,
    schemaVersion: options.schemaVersion ?? '1',
    breakerThreshold: options.breakerThreshold ?? 3,
    probeIntervalMs: options.probeIntervalMs ?? 500,
    busAckTimeoutMs: options.busAckTimeoutMs ?? 250,
    lockLeaseMs: options.lockLeaseMs ?? 10_000,
    lockWaitMs: options.lockWaitMs ?? 5_000,
    lockPollMs: options.lockPollMs ?? 500,
    tombstoneMs: options.tombstoneMs ?? 60_000,
    serializer: options.serializer ?? jsonSerializer,
    clusterSlotGroups: groups ?? 16,
  };
}
