import type { EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { QueryCacheArgumentError } from './query-cache.errors';

/**
 * The tags the query cache puts on entries and invalidates on writes. For an
 * entity `E` (its TypeORM metadata name):
 *
 * - `q.all:E`: every cached read that involves `E`. Invalidated by writes whose
 *   rows are unknown (QueryBuilder `update`/`delete` without ids, raw SQL).
 * - `q.list:E`: reads that may return several rows or count them (`find`,
 *   `count`, joins). Invalidated by every write to `E`.
 * - `q.row:E:id`: reads of one row by its primary key. Invalidated by writes
 *   to that row (and by an insert of that id: a cached "not found").
 * - `q.view:name:…`: views declared by the application (see `EmbedDeclaration`).
 *
 * The prefix (`q` here) is `QueryCacheOptions.tagPrefix`.
 */
export class QueryTags {
  constructor(readonly prefix = 'q') {}

  all(entity: string): string {
    return `${this.prefix}.all:${entity}`;
  }

  list(entity: string): string {
    return `${this.prefix}.list:${entity}`;
  }

  row(entity: string, id: string): string {
    return `${this.prefix}.row:${entity}:${id}`;
  }

  view(name: string, ...parts: ReadonlyArray<string | number | bigint>): string {
    if (name === '') throw new QueryCacheArgumentError('a view tag needs a name');
    return [`${this.prefix}.view:${name}`, ...parts.map(String)].join(':');
  }
}

/** The name tags use for an entity target: the class name or the given entity name. */
export function entityName(target: EntityTarget<ObjectLiteral>): string {
  if (typeof target === 'string') return target;
  if (typeof target === 'function') return target.name;
  if ('options' in target) return target.options.name; // EntitySchema
  return target.name;
}

/**
 * The canonical id of a row: the primary key value, or for a composite key
 * the values in primary-column order joined by `,`. Undefined when a primary
 * value is missing (the row is unknown, e.g. a QueryBuilder update's values).
 */
export function rowId(metadata: EntityMetadata, row: ObjectLiteral | undefined): string | undefined {
  if (!row) return undefined;
  const parts: string[] = [];
  for (const column of metadata.primaryColumns) {
    const value: unknown = column.getEntityValue(row);
    if (value === undefined || value === null) return undefined;
    parts.push(scalar(value));
  }
  return parts.length ? parts.join(',') : undefined;
}

/** `rowId` from a plain id (single primary key) or a record of primary values. */
export function idOf(metadata: EntityMetadata, id: unknown): string | undefined {
  if (id !== null && typeof id === 'object' && !(id instanceof Date)) return rowId(metadata, id);
  if (metadata.primaryColumns.length !== 1 || id === undefined || id === null) return undefined;
  return scalar(id);
}

/** A primary key value as text: dates as ISO strings, buffers as hex, the rest as `String` does. */
function scalar(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return JSON.stringify(value);
  }
}
