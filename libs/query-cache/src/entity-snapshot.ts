import type { EntityMetadata, ObjectLiteral } from 'typeorm';

/**
 * Entities are class instances, which the cache's serializer refuses (it
 * only round-trips data). A snapshot is the same tree as plain objects;
 * `hydrate` turns it back into instances of the entity classes (relations and
 * embedded columns included), new entity objects per call, so a caller that
 * sets a property of what it got does not change what other callers get.
 * Leaf values (`Date`, `Buffer`, arrays of a column, json column objects)
 * are shared with the cached copy, as the cache's own values are: treat
 * them as read-only.
 *
 * Instances are made with `Object.create(prototype)`: class field
 * initializers do not run, as with TypeORM's own `entitySkipConstructor`.
 */
export function snapshot(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(snapshot);
  if (isData(value)) return value;
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(value)) plain[key] = snapshot((value as Record<string, unknown>)[key]);
  return plain;
}

/** Values the serializer round-trips itself (and TypeORM column types produce). */
function isData(value: object): boolean {
  return (
    value instanceof Date ||
    Buffer.isBuffer(value) ||
    value instanceof Uint8Array ||
    value instanceof Map ||
    value instanceof Set
  );
}

/** Instances of `metadata`'s class (and of its relations' and embeddeds' classes) from a snapshot. */
export function hydrate<T>(metadata: EntityMetadata, plain: unknown): T {
  if (plain === null || typeof plain !== 'object') return plain as T;
  if (Array.isArray(plain)) return plain.map((p) => hydrate<unknown>(metadata, p)) as T;
  return instance(metadata.target, plain, metadata) as T;
}

function instance(target: unknown, plain: ObjectLiteral, metadata?: EntityMetadata): ObjectLiteral {
  const proto = typeof target === 'function' ? (target.prototype as object) : Object.prototype;
  const out = Object.assign(Object.create(proto) as ObjectLiteral, plain);
  if (!metadata) return out;
  for (const relation of metadata.relations) {
    const key = relation.propertyName;
    if (!relation.isLazy && out[key] != null) out[key] = hydrate<unknown>(relation.inverseEntityMetadata, out[key]);
  }
  for (const embedded of metadata.embeddeds) {
    const key = embedded.propertyName;
    const value = out[key] as ObjectLiteral | null | undefined;
    if (value != null && typeof value === 'object') {
      out[key] = embedded.isArray
        ? (value as ObjectLiteral[]).map((v) => instance(embedded.type, v))
        : instance(embedded.type, value);
    }
  }
  return out;
}
