import { CacheArgumentError } from '../cache.errors';
import { safeSegment } from '../keys';

/**
 * A lock name as it appears in Redis keys and release notices: kept when
 * short and made of `[A-Za-z0-9:_.-]`, hashed otherwise (so no name can
 * carry a Cluster hash tag or a glob character).
 */
export function lockName(name: string): string {
  if (typeof name !== 'string' || name === '') throw new CacheArgumentError('a lock name must be a non-empty string');
  return safeSegment(name);
}
