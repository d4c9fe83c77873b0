import { FindOperator, type EntityMetadata, type ObjectLiteral } from 'typeorm';
import { idOf, type QueryTags } from './query-tags';

/** What a read depends on: its main entity (one row, or lists) and the entities it joins. */
export interface ReadScope {
  main: EntityMetadata;
  /** Primary key of the one row read, when the read is "by primary key"; else the read is a list. */
  rowId?: string;
  joined: Iterable<EntityMetadata>;
}

/**
 * Tags of a cached read. Every involved entity gives its `all` tag (writes
 * with unknown rows). The main entity gives its `row` tag for a read by
 * primary key, else its `list` tag. Joined entities give their `list` tag
 * when relation tags are `coarse`.
 */
export function readTags(scope: ReadScope, tags: QueryTags, relationTags: 'coarse' | 'declared'): string[] {
  const out = new Set<string>([tags.all(scope.main.name)]);
  out.add(scope.rowId === undefined ? tags.list(scope.main.name) : tags.row(scope.main.name, scope.rowId));
  for (const metadata of scope.joined) {
    if (metadata === scope.main) continue;
    out.add(tags.all(metadata.name));
    if (relationTags === 'coarse') out.add(tags.list(metadata.name));
  }
  return [...out];
}

/** The primary key of a `where` that is exactly "primary columns = plain values", else undefined. */
export function primaryKeyOf(metadata: EntityMetadata, where: unknown): string | undefined {
  if (!where || typeof where !== 'object' || Array.isArray(where)) return undefined;
  const record = where as ObjectLiteral;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined);
  const primary = metadata.primaryColumns;
  if (keys.length !== primary.length) return undefined;
  for (const column of primary) {
    const value: unknown = record[column.propertyName];
    if (value === null || value === undefined || value instanceof FindOperator) return undefined;
    if (typeof value === 'object' && !(value instanceof Date)) return undefined;
  }
  return idOf(metadata, primary.length === 1 ? record[primary[0].propertyName] : record);
}

/**
 * Entities a find reaches besides its own: relations named in `relations`
 * (object or dotted-path form), relations filtered or ordered on in
 * `where`/`order`, eager relations, and many-to-many junction tables.
 */
export function joinedByFind(metadata: EntityMetadata, options: ObjectLiteral | undefined): Set<EntityMetadata> {
  const found = new Set<EntityMetadata>();
  const eager = options?.loadEagerRelations !== false;
  const all = !!options?.loadRelationIds;
  walk(metadata, relationTree(options?.relations), found, eager, all);
  for (const where of [options?.where].flat()) walk(metadata, where, found, false, false);
  walk(metadata, options?.order, found, false, false);
  return found;
}

function relationTree(relations: unknown): unknown {
  if (!Array.isArray(relations)) return relations;
  const tree: ObjectLiteral = {};
  for (const path of relations as string[]) {
    let node = tree;
    for (const part of path.split('.')) node = (node[part] ??= {}) as ObjectLiteral;
  }
  return tree;
}

function walk(metadata: EntityMetadata, tree: unknown, found: Set<EntityMetadata>, eager: boolean, all: boolean): void {
  const record = tree && typeof tree === 'object' && !(tree instanceof FindOperator) ? (tree as ObjectLiteral) : {};
  for (const relation of metadata.relations) {
    const sub: unknown = record[relation.propertyName];
    const named = sub !== undefined && sub !== false && sub !== null;
    if (!named && !(eager && relation.isEager) && !all) continue;
    const target = relation.inverseEntityMetadata;
    if (relation.junctionEntityMetadata) found.add(relation.junctionEntityMetadata);
    if (found.has(target) && !named) continue; // eager cycles
    found.add(target);
    walk(target, named ? sub : undefined, found, eager, false);
  }
}
