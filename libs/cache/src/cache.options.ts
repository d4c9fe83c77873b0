import type { Serializer } from './serialization/serializer';

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
}

/** Options with every default applied. */
export type ResolvedCacheOptions = Required<CacheModuleOptions>;
