import type { DataSource, EntityManager, EntityMetadata, ObjectLiteral } from 'typeorm';
import type { EmbedDeclaration } from './query-cache.options';
import { rowId, type QueryTags } from './query-tags';

/** A write as the subscriber saw it. */
export interface WriteFacts {
  metadata: EntityMetadata;
  /** Objects carrying the written rows' primary keys (old and new); empty when the rows are unknown. */
  keys: ReadonlyArray<ObjectLiteral | undefined>;
  /** The row's states (before and after) handed to embed declarations. */
  rows: ReadonlyArray<ObjectLiteral | undefined>;
  manager: EntityManager;
  /** The rows were deleted (not soft-deleted): rows referencing them may be deleted or changed by the database. */
  removed?: boolean;
}

/** Foreign-key actions by which the database changes referencing rows that no subscriber sees. */
const DB_ACTIONS: ReadonlySet<string | undefined> = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT']);

/**
 * Tags a write invalidates. Rows known: the entity's `list` tag, each row's
 * `row` tag and the views its embed declarations name. Rows unknown: the
 * entity's `all` tag (every read of it). Table inheritance: the parent and
 * child entities sharing the rows get the same tags. A delete also takes the
 * `all` tag of every entity whose relation to it says `onDelete: 'CASCADE'`
 * (or SET NULL/DEFAULT), transitively: the database changes those rows
 * without an event, and which rows is unknown.
 */
export class WriteTags {
  private embedsByEntity?: Map<EntityMetadata, Array<EmbedDeclaration['views']>>;
  private readonly cascades = new Map<EntityMetadata, string[]>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly tags: QueryTags,
    private readonly embeds: readonly EmbedDeclaration[],
  ) {}

  async of(write: WriteFacts): Promise<string[]> {
    const family = related(write.metadata);
    const ids = new Set<string>();
    for (const key of write.keys) {
      const id = rowId(write.metadata, key);
      if (id !== undefined) ids.add(id);
    }
    const cascaded = write.removed ? this.cascadedFrom(write.metadata) : [];
    if (ids.size === 0) return [...family.map((m) => this.tags.all(m.name)), ...cascaded];
    const out = new Set<string>(cascaded);
    for (const m of family) {
      out.add(this.tags.list(m.name));
      for (const id of ids) out.add(this.tags.row(m.name, id));
    }
    for (const views of this.embedsOf(write.metadata)) {
      for (const row of new Set(write.rows)) {
        if (!row) continue;
        for (const tag of await views(row, { manager: write.manager, tags: this.tags })) out.add(tag);
      }
    }
    return [...out];
  }

  /** Tags of raw SQL writing the entity's table: it may delete, so the cascades too. */
  unknownRows(metadata: EntityMetadata): string[] {
    return [...related(metadata).map((m) => this.tags.all(m.name)), ...this.cascadedFrom(metadata)];
  }

  /** `all` tags of the entities the database changes when rows of `metadata` are deleted. */
  private cascadedFrom(metadata: EntityMetadata): string[] {
    let tags = this.cascades.get(metadata);
    if (tags) return tags;
    const reached = new Set<EntityMetadata>();
    const deleted = [...related(metadata)];
    for (let i = 0; i < deleted.length; i++) {
      for (const referencing of this.dataSource.entityMetadatas) {
        for (const relation of referencing.manyToOneRelations.concat(referencing.oneToOneRelations)) {
          if (!relation.isOwning || !DB_ACTIONS.has(relation.onDelete)) continue;
          if (relation.inverseEntityMetadata !== deleted[i]) continue;
          for (const m of related(referencing)) {
            reached.add(m);
            // Only a cascade deletes the referencing rows, whose own dependants then change in turn.
            if (relation.onDelete === 'CASCADE' && !deleted.includes(m)) deleted.push(m);
          }
        }
      }
    }
    tags = [...reached].map((m) => this.tags.all(m.name));
    if (this.dataSource.isInitialized) this.cascades.set(metadata, tags);
    return tags;
  }

  private embedsOf(metadata: EntityMetadata): Array<EmbedDeclaration['views']> {
    if (!this.embedsByEntity) {
      const map = new Map<EntityMetadata, Array<EmbedDeclaration['views']>>();
      for (const embed of this.embeds) {
        const target = this.dataSource.getMetadata(embed.entity);
        map.set(target, [...(map.get(target) ?? []), embed.views]);
      }
      this.embedsByEntity = map;
    }
    return related(metadata).flatMap((m) => this.embedsByEntity!.get(m) ?? []);
  }
}

/** The entity, its inheritance ancestors and its children: reads of any of them may return the row. */
function related(metadata: EntityMetadata): EntityMetadata[] {
  const family = new Set<EntityMetadata>([metadata, ...metadata.childEntityMetadatas]);
  for (let parent = metadata.parentEntityMetadata; parent; parent = parent.parentEntityMetadata) family.add(parent);
  return [...family];
}
