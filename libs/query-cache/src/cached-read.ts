import type { Logger } from '@nestjs/common';
import type { NamespacedCache } from '@app/cache';
import type { EntityMetadata } from 'typeorm';
import { hydrate, snapshot } from './entity-snapshot';

/** How a result is stored: entities (one, or an array) become snapshots; `[entities, count]`; or data as is. */
export type ResultShape = 'entities' | 'entitiesAndCount' | 'data';

/** One cached read, fully described. */
export interface ReadSpec<R> {
  key: string;
  tags: readonly string[];
  ttl: number;
  shape: ResultShape;
  metadata: EntityMetadata;
  load: () => Promise<R>;
}

/**
 * Runs a read through the cache's `getOrSet`, which gives it single flight
 * and the late-write guard: a load that started before an invalidation of
 * the key or its tags (on any instance, checked against Redis's markers in
 * the write script) is returned to its caller but not stored. That is what
 * keeps a reader that saw the row before a commit from caching it after the
 * commit's invalidation.
 *
 * Fail-open: when the cache cannot store or read (serialization, Redis
 * trouble the cache did not absorb), the database result is returned.
 */
export async function cachedRead<R>(cache: NamespacedCache, spec: ReadSpec<R>, logger: Logger): Promise<R> {
  let loaded: { value: R } | undefined;
  let loaderFailed = false;
  const loader = async () => {
    try {
      loaded = { value: await spec.load() };
    } catch (error) {
      loaderFailed = true;
      throw error;
    }
    return toStored(spec.shape, loaded.value);
  };
  let stored: unknown;
  try {
    stored = await cache.getOrSet(spec.key, loader, { ttl: spec.ttl, tags: spec.tags });
  } catch (error) {
    if (loaderFailed) throw error;
    logger.warn(`query cache bypassed for ${spec.metadata.name}: ${String(error)}`);
    return loaded ? loaded.value : spec.load();
  }
  // This call's own load: the database's objects, as an uncached read returns them.
  if (loaded) return loaded.value;
  return fromStored<R>(spec.shape, spec.metadata, stored);
}

function toStored(shape: ResultShape, value: unknown): unknown {
  if (shape === 'data') return value;
  if (shape === 'entities') return snapshot(value);
  const [rows, count] = value as [unknown[], number];
  return [snapshot(rows), count];
}

function fromStored<R>(shape: ResultShape, metadata: EntityMetadata, stored: unknown): R {
  if (shape === 'data') return stored as R;
  if (shape === 'entities') return hydrate<R>(metadata, stored);
  const [rows, count] = stored as [unknown[], number];
  return [hydrate(metadata, rows), count] as R;
}
