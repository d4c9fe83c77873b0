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
}

/**
 * Tags a write invalidates. Rows known: the entity's `list` tag, each row's
 * `row` tag and the views its embed declarations name. Rows unknown: the
 * entity's `all` tag (every read of it). Table inheritance: the parent and
 * child entities sharing the rows get the same tags.
 */
export class WriteTags {
  private embedsByEntity?: Map<EntityMetadata, Array<EmbedDeclaration['views']>>;

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
    if (ids.size === 0) return family.map((m) => this.tags.all(m.name));
    const out = new Set<string>();
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

  /** Tags of a write whose rows are unknown (raw SQL, id-less QueryBuilder writes). */
  unknownRows(metadata: EntityMetadata): string[] {
    return related(metadata).map((m) => this.tags.all(m.name));
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
