/** Options of `CacheAdminModule.forRoot`. */
export interface CacheAdminModuleOptions {
  /** How often the stats ring buffer takes a sample (ms); 0 turns sampling off. @default 10000 */
  sampleIntervalMs?: number;
  /** How many samples it keeps. @default 180 (30 minutes at 10 s) */
  sampleCount?: number;
}

export interface ResolvedCacheAdminOptions {
  sampleIntervalMs: number;
  sampleCount: number;
}

export function resolveCacheAdminOptions(options: CacheAdminModuleOptions = {}): ResolvedCacheAdminOptions {
  const interval = options.sampleIntervalMs ?? 10_000;
  const count = options.sampleCount ?? 180;
  if (!(Number.isInteger(interval) && (interval === 0 || interval >= 100)))
    throw new TypeError(`CacheAdminModule sampleIntervalMs must be 0 or an integer >= 100, got ${interval}`);
  if (!(Number.isInteger(count) && count >= 1 && count <= 100_000))
    throw new TypeError(`CacheAdminModule sampleCount must be an integer in 1..100000, got ${count}`);
  return { sampleIntervalMs: interval, sampleCount: count };
}
