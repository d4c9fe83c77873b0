import { hash } from 'node:crypto';
import { FindOperator, type EntityMetadata, type ObjectLiteral } from 'typeorm';

/**
 * Canonical text of a query's description: object keys sorted (so `{a, b}`
 * and `{b, a}` are one key), types kept apart (`1` vs `'1'`, a Date vs its
 * ISO string), TypeORM operators (`In`, `MoreThan`, `Raw`, …) spelled out
 * with their values and nesting. Functions (the SQL generator of `Raw`)
 * contribute their source text.
 */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'u';
    case 'function':
      return `f(${JSON.stringify(value.toString())})`;
    case 'symbol':
      return `s(${JSON.stringify(value.description ?? '')})`;
  }
  if (value === null) return 'null';
  if (value instanceof Date) return `d(${value.getTime()})`;
  if (value instanceof FindOperator) return operator(value as FindOperator<unknown>);
  if (Buffer.isBuffer(value)) return `b(${value.toString('base64')})`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined) // TypeORM ignores undefined where/order members
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
}

function operator(op: FindOperator<unknown>): string {
  const inner = op.child ? operator(op.child) : canonical(op.value);
  const sql = op.getSql ? `,${canonical(op.getSql)}` : '';
  const params = op.objectLiteralParameters ? `,${canonical(op.objectLiteralParameters)}` : '';
  return `op.${op.type}(${inner}${sql}${params})`;
}

/** SHA-256 (base64url, 22 characters = 132 bits) of a canonical description: short, safe in a Redis key. */
export function hashKey(text: string): string {
  return hash('sha256', text, 'base64url').slice(0, 22);
}

/** The cache key of a repository read: entity, method and hashed canonical arguments. */
export function repositoryKey(entity: string, method: string, args: readonly unknown[]): string {
  return `${safeName(entity)}:${method}:${hashKey(canonical(args))}`;
}

/** Primary key values that go into a key as they are (UUIDs, numbers as text, slugs). */
const PLAIN_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * True for a find that is nothing but `{ where: { <single primary column>: '<plain string>' } }`
 * (what `findOneBy({ id })` passes): its key needs no canonical form and no
 * hash. The most common cached read skips both (about 3 µs per hit).
 */
export function plainKeyRead(metadata: EntityMetadata, find: ObjectLiteral | undefined): boolean {
  if (!find || metadata.primaryColumns.length !== 1) return false;
  const keys = Object.keys(find);
  if (keys.length !== 1 || keys[0] !== 'where') return false;
  const where = find.where as unknown;
  if (!where || typeof where !== 'object' || Array.isArray(where)) return false;
  const column = metadata.primaryColumns[0].propertyName;
  const whereKeys = Object.keys(where);
  const value = (where as ObjectLiteral)[column] as unknown;
  return whereKeys.length === 1 && whereKeys[0] === column && typeof value === 'string' && PLAIN_ID.test(value);
}

/**
 * The key of a `plainKeyRead`: `id.` and the value. Hashed keys (above) are
 * base64url and never contain a `.`, so the two forms cannot collide.
 */
export function primaryKeyReadKey(entity: string, method: string, id: string): string {
  return `${safeName(entity)}:${method}:id.${id}`;
}

/** The cache key of a QueryBuilder read: hashed SQL and parameters. */
export function sqlKey(entity: string, method: string, sql: string, parameters: readonly unknown[]): string {
  return `${safeName(entity)}:${method}:sql.${hashKey(`${sql}\u0000${canonical(parameters)}`)}`;
}

/** Entity names go into keys as they are when safe, hashed otherwise. */
function safeName(name: string): string {
  return /^[A-Za-z0-9_.-]{1,100}$/.test(name) ? name : hashKey(name);
}
