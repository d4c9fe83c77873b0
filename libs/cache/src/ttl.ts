import { CacheArgumentError } from './cache.errors';

/**
 * Resolves a TTL option (number or function of the value), caps it at
 * `maxMs` and applies jitter (a reduction of up to `jitter` × TTL, so the
 * result stays within `maxMs`). A jitter outside 0..1 is refused: negative it
 * would lengthen entries past `maxMs` (past the tag markers that invalidate
 * them), NaN would give a NaN TTL.
 */
export function resolveTtl<T>(
  ttl: number | ((value: T) => number) | undefined,
  value: T,
  defaults: { ttlMs: number; jitter: number; maxMs: number },
): number {
  const base = typeof ttl === 'function' ? ttl(value) : (ttl ?? defaults.ttlMs);
  if (!Number.isFinite(base) || base <= 0)
    throw new CacheArgumentError(`TTL must be a positive number of ms, got ${base}`);
  if (!(defaults.jitter >= 0 && defaults.jitter <= 1))
    throw new CacheArgumentError(`TTL jitter must be between 0 and 1, got ${defaults.jitter}`);
  const capped = Math.min(base, defaults.maxMs);
  return Math.max(1, Math.round(capped * (1 - Math.random() * defaults.jitter)));
}

/**
 * Validates a grace window and caps TTL + grace at `maxMs`: tag markers live
 * `maxMs`, and an entry must not outlive the markers that can invalidate it.
 */
export function resolveGrace(grace: number | undefined, fallback: number, ttlMs: number, maxMs: number): number {
  const value = grace ?? fallback;
  if (!Number.isFinite(value) || value < 0) throw new CacheArgumentError(`grace must be >= 0 ms, got ${value}`);
  return Math.min(value, Math.max(0, maxMs - ttlMs));
}
