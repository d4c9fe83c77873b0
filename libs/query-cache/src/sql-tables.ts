import type { DataSource, EntityMetadata } from 'typeorm';

// An identifier as Postgres SQL spells it: "quoted" (with "" escapes) or bare, optionally schema-qualified.
const NAME = String.raw`((?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))?)`;
const WRITE = new RegExp(
  String.raw`\b(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?|merge\s+into|copy)\s+(?:only\s+)?${NAME}`,
  'gi',
);
const READ = new RegExp(String.raw`\b(?:from|join)\s+(?:only\s+)?${NAME}`, 'gi');
const MAY_WRITE = /\b(?:insert|update|delete|truncate|merge|copy)\b/i;
// TRUNCATE [TABLE] a, [ONLY] b [*], c [RESTART IDENTITY] [CASCADE]: the list after the first name.
const TRUNCATE_LIST = /^\s*truncate\b(?:\s+table\b)?([^;]*)/i;
// One item of that list: its name, without ONLY, `*` or the options after the last name.
const TRUNCATE_ITEM = new RegExp(String.raw`^\s*(?:only\s+)?${NAME}`, 'i');

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
    for (const item of truncate ? truncate[1].split(',') : []) {
      const name = TRUNCATE_ITEM.exec(item);
      if (name) names.push(name[1]);
    }
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
      // Without a configured schema the table is in the search path's, normally `public`: SQL may say `public.users`.
      add(`${metadata.schema ?? 'public'}.${metadata.tableName}`, metadata);
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
