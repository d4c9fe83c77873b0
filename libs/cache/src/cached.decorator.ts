import { SetMetadata } from '@nestjs/common';
import type { GetOrSetOptions } from './cache-entry';

/** Metadata key of `@Cached`. */
export const CACHED_METADATA = 'CACHE:CACHED_METHOD';

/** Options of `@Cached`. */
export interface CachedOptions<A extends unknown[] = unknown[]> extends Omit<GetOrSetOptions, 'tags'> {
  /** Namespace of the entries. @default the class name */
  namespace?: string;
  /** Key from the arguments. @default buildKey(methodName, ...args) */
  key?: (...args: A) => string;
  /** Tags, fixed or from the arguments. */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
}

/**
 * Caches an async method's result through `getOrSet` (single flight, grace,
 * tags). The method's instance must be a Nest provider: `CacheModule` wraps
 * decorated methods when the application starts.
 */
export const Cached = <A extends unknown[] = unknown[]>(options: CachedOptions<A> = {}): MethodDecorator =>
  SetMetadata(CACHED_METADATA, options);
