import type { L1Entry, SetOptions } from '../cache-entry';
import { CacheArgumentError } from '../cache.errors';
import { namespaceTag, safeNamespace, safeSegment } from '../keys';
import type { L2Write, WriteGuard } from '../l2/redis-l2';
import { encodeWithLimit } from '../serialization/serializer';
import { resolveGrace, resolveTtl } from '../ttl';
import type { EngineContext } from './engine-context';

/** The guard of a write that did not follow a read (`set`): none. */
export const UNGUARDED: WriteGuard = { notBefore: 0 };

/** A value ready to store: encoded, with its resolved TTL, grace and tags. */
export interface PreparedWrite {
  value: unknown;
  /** Encoded size (the L1 byte bound counts it). */
  bytes: number;
  write: L2Write;
}

/**
 * Turns a value and its options into what both tiers store: TTL (with
 * jitter), grace, the entry's tags (the namespace's implicit tag first) and
 * the encoded payload. One place resolves them, so L1 and L2 always agree.
 */
export class EntryPreparer {
  constructor(private readonly ctx: EngineContext) {}

  /** Resolves TTL, grace and tags and encodes the value (throwing when the cache cannot hold it). */
  prepare<T>(namespace: string, full: string, value: T, options: SetOptions<T>, guard: WriteGuard): PreparedWrite {
    const o = this.ctx.options;
    const jitter = options.jitter ?? o.ttlJitter;
    const ttl = resolveTtl(options.ttl, value, { ttlMs: o.defaultTtlMs, jitter, maxMs: o.maxTtlMs });
    const grace = resolveGrace(options.grace, o.defaultGraceMs, ttl, o.maxTtlMs);
    const tags = this.entryTags(namespace, resolveTags(options.tags, value));
    const { text, bytes } = encodeWithLimit(o.serializer, value, o.maxEntryBytes);
    const write = { key: full, ttlMs: ttl, graceMs: grace, schema: o.schemaVersion, tags, payload: text, ...guard };
    return { value, bytes, write };
  }

  /** Puts a prepared write into L1 (counted as an L1 set). */
  keepInL1(namespace: string, { value, bytes, write }: PreparedWrite): void {
    const now = Date.now();
    const { ttlMs, graceMs, tags } = write;
    const entry: L1Entry = { value, expiresAt: now + ttlMs, graceUntil: now + ttlMs + graceMs, tags, ttlMs };
    this.ctx.l1.set(write.key, entry, bytes);
    this.ctx.stats.count(namespace, 'l1', 'sets');
  }

  /** The caller's tags, checked (non-empty), as stored. */
  entryTags(namespace: string, tags: readonly string[] = []): string[] {
    for (const tag of tags) if (tag === '') throw new CacheArgumentError('tags must be non-empty strings');
    return this.tagsOf(namespace, tags);
  }

  /** An entry's tags as stored: the namespace's implicit tag, then the caller's (made safe, not validated). */
  tagsOf(namespace: string, tags: readonly string[] = []): string[] {
    return [namespaceTag(safeNamespace(namespace)), ...tags.map((t) => safeSegment(t))];
  }

  /** The TTL a read declares (the default when it names none); undefined when it is a function of the value. */
  declaredTtl(ttl: SetOptions<never>['ttl']): number | undefined {
    if (ttl === undefined) return this.ctx.options.defaultTtlMs;
    return typeof ttl === 'number' ? ttl : undefined;
  }
}

/** A tags option as a list (a function of the value is called). */
export function resolveTags<T>(tags: SetOptions<T>['tags'], value: T): readonly string[] | undefined {
  return typeof tags === 'function' ? tags(value) : tags;
}
