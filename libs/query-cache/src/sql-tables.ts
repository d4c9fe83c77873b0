import type { DataSource, EntityMetadata } from 'typeorm';

// An identifier as Postgres SQL spells it: "quoted" (with "" escapes) or bare, optionally schema-qualified.
const NAME = String.raw`((?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))?)`;
const WRITE = new RegExp(
  String.raw`\b(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?(?:\s+only)?|merge\s+into|copy)\s+${NAME}`,
  'gi',
);
const READ = new RegExp(String.raw`\b(?:from|join)\s+(?:only\s+)?${NAME}`, 'gi');
const MAY_WRITE = /\b(?:insert|update|delete|truncate|merge|copy)\b/i;
// TRUNCATE a, b, c: the names after the first one.
const TRUNCATE_LIST = new RegExp(String.raw`^\s*truncate\b[^;]*`, 'i');

/**
 * Finds the tables a SQL statement reads or writes, and maps them to entity
 * metadata. A lexical scan, not a parser: it may report a table too many
 * (a column named like a keyword), which only costs an extra invalidation,
 * and it sees tables inside CTEs and subqueries, which TypeORM's alias list
 * does not.
 */
export class TableIndex {
  private byName?: Map<string, EntityMetadata[]>;

  constructor(private readonly dataSource: DataSource) {}

  /** Entities whose tables the statement may write (INSERT, UPDATE, DELETE, TRUNCATE, MERGE, COPY). */
  written(sql: string): EntityMetadata[] {
    if (!MAY_WRITE.test(sql)) return [];
    const names = [...sql.matchAll(WRITE)].map((m) => m[1]);
    const truncate = TRUNCATE_LIST.exec(sql);
    if (truncate) names.push(...truncate[0].replace(/^\s*truncate(\s+table)?(\s+only)?/i, '').split(','));
    return this.resolve(names);
  }

  /** Entities whose tables the statement reads (FROM and JOIN). */
  read(sql: string): EntityMetadata[] {
    return this.resolve([...sql.matchAll(READ)].map((m) => m[1]));
  }

  private resolve(names: readonly string[]): EntityMetadata[] {
    const index = this.index();
    const found = new Set<EntityMetadata>();
    for (const name of names) for (const metadata of index.get(normalise(name)) ?? []) found.add(metadata);
    return [...found];
  }

  private index(): Map<string, EntityMetadata[]> {
    if (this.byName) return this.byName;
    const map = new Map<string, EntityMetadata[]>();
    const add = (name: string, metadata: EntityMetadata) => map.set(name, [...(map.get(name) ?? []), metadata]);
    for (const metadata of this.dataSource.entityMetadatas) {
      // Metadata names are exact (what the quoted identifiers in TypeORM's SQL say).
      add(metadata.tableName, metadata);
      add(metadata.tablePath, metadata);
      if (metadata.schema) add(`${metadata.schema}.${metadata.tableName}`, metadata);
    }
    // Entity metadata is complete once the data source is initialised; before that, do not memoise a partial index.
    if (this.dataSource.isInitialized) this.byName = map;
    return map;
  }
}

/** `"Public" . "user"` → `Public.user`; bare names fold to lower case as Postgres does. */
function normalise(name: string): string {
  return name
    .trim()
    .split(/\s*\.\s*/)
    .map((part) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toLowerCase()))
    .join('.');
}
