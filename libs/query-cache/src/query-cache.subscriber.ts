import { Logger } from '@nestjs/common';
import type {
  AfterQueryEvent,
  EntitySubscriberInterface,
  InsertEvent,
  ObjectLiteral,
  QueryRunner,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  UpdateEvent,
} from 'typeorm';
import { QueryCacheInvalidationError } from './query-cache.errors';
import type { EmbedDeclaration } from './query-cache.options';
import type { QueryCache } from './query-cache';
import { WriteBuffer } from './write-buffer';
import { isCommit, outcomeUnknown } from './write-outcome';
import { WriteTags, type WriteFacts } from './write-tags';

type RowEvent = RemoveEvent<ObjectLiteral> | SoftRemoveEvent<ObjectLiteral> | RecoverEvent<ObjectLiteral>;
type Metadata = WriteFacts['metadata'];

/**
 * Invalidates cached reads when TypeORM writes. Each write's tags (see
 * `WriteTags`) are collected on its QueryRunner while a transaction is open
 * and invalidated after the outermost COMMIT (dropped on ROLLBACK); outside a
 * transaction they are invalidated right after the statement. The write call
 * (`save`, `execute`, `query`) returns only after the invalidation reached
 * Redis and every instance's L1.
 *
 * Raw SQL (`repository.query`, `manager.query`) and QueryBuilder writes that
 * bypass listeners are seen in `afterQuery`: their tables' entities are
 * invalidated whole. Statements of ORM writes (between a before- and an
 * after-event on the same runner) are left to the after-event, which knows
 * the rows.
 */
export class QueryCacheSubscriber implements EntitySubscriberInterface {
  private readonly logger = new Logger('QueryCache');
  private readonly buffer = new WriteBuffer();
  /** The last tag resolution of each query runner (see `oneAtATime`). */
  private readonly serial = new WeakMap<QueryRunner, Promise<unknown>>();
  private readonly writeTags: WriteTags;

  constructor(
    private readonly qc: QueryCache,
    embeds: readonly EmbedDeclaration[],
  ) {
    this.writeTags = new WriteTags(qc.dataSource, qc.tags, embeds);
  }

  beforeInsert(event: InsertEvent<ObjectLiteral>): void {
    this.started(event.queryRunner, event.metadata);
  }

  beforeUpdate(event: UpdateEvent<ObjectLiteral>): void {
    this.started(event.queryRunner, event.metadata);
  }

  beforeRemove(event: RemoveEvent<ObjectLiteral>): void {
    this.started(event.queryRunner, event.metadata);
  }

  beforeSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): void {
    this.started(event.queryRunner, event.metadata);
  }

  beforeRecover(event: RecoverEvent<ObjectLiteral>): void {
    this.started(event.queryRunner, event.metadata);
  }

  afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    const keys = [event.entityId, event.entity];
    return this.written(event.queryRunner, { ...facts(event), keys, rows: [event.entity] });
  }

  afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    // Without the database row, this is a QueryBuilder update: its WHERE, not its values, picks the rows.
    const before = event.databaseEntity;
    const after = before && event.entity ? { ...before, ...event.entity } : undefined;
    const known = before ? { keys: [before, event.entity], rows: [before, after] } : { keys: [], rows: [] };
    return this.written(event.queryRunner, { ...facts(event), ...known });
  }

  afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    return this.written(event.queryRunner, { ...rowFacts(event), removed: true });
  }

  afterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): Promise<void> {
    return this.written(event.queryRunner, rowFacts(event));
  }

  afterRecover(event: RecoverEvent<ObjectLiteral>): Promise<void> {
    return this.written(event.queryRunner, rowFacts(event));
  }

  async afterQuery(event: AfterQueryEvent): Promise<void> {
    if (!event.success) return this.failed(event);
    const tables = this.qc.tables.written(event.query);
    const raw = tables.filter((m) => !this.buffer.isOrmWrite(event.queryRunner, m.tablePath));
    if (raw.length)
      await this.collect(
        event.queryRunner,
        raw.flatMap((m) => this.writeTags.unknownRows(m)),
      );
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    // A released savepoint is not a commit: the outer transaction may still roll back.
    if (!event.queryRunner.isTransactionActive) await this.flush(this.buffer.take(event.queryRunner));
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    // A savepoint's writes stay buffered: invalidating them after the outer commit is harmless.
    if (!event.queryRunner.isTransactionActive) this.buffer.drop(event.queryRunner);
  }

  /**
   * A failed statement whose answer never came (see `outcomeUnknown`) may
   * have taken effect: a COMMIT may have committed, a write outside a
   * transaction may have been applied. Its reads are invalidated as if it
   * had: the buffered tags of the COMMIT, the written tables' entities whole
   * for a single statement (its after-event, which knows the rows, does not
   * come). Dropping them left every instance serving the old rows for the
   * TTL while the database held the new ones.
   */
  private async failed(event: AfterQueryEvent): Promise<void> {
    const runner = event.queryRunner;
    this.buffer.ormWritesFailed(runner);
    if (!outcomeUnknown(event.error)) return;
    if (isCommit(event.query)) return this.flush(this.buffer.take(runner));
    if (runner.isTransactionActive) return;
    await this.flush(this.qc.tables.written(event.query).flatMap((m) => this.writeTags.unknownRows(m)));
  }

  private started(runner: QueryRunner, metadata: Metadata): void {
    this.buffer.ormWriteStarted(runner, metadata.tablePath);
  }

  private async written(runner: QueryRunner, write: WriteFacts): Promise<void> {
    this.buffer.ormWriteEnded(runner, write.metadata.tablePath);
    await this.collect(runner, await this.oneAtATime(runner, () => this.writeTags.of(write)));
  }

  /**
   * Runs `task` after the previous one on this query runner. TypeORM calls
   * the subscribers of a save's entities at the same time, and an embed's
   * views query on the writer's connection: two at once would overlap on one
   * connection, which `pg` 8 queues with a deprecation warning and `pg` 9
   * refuses.
   */
  private oneAtATime<T>(runner: QueryRunner, task: () => Promise<T>): Promise<T> {
    const next = (this.serial.get(runner) ?? Promise.resolve()).then(task, task);
    this.serial.set(
      runner,
      next.catch(() => undefined),
    );
    return next;
  }

  private async collect(runner: QueryRunner, tags: readonly string[]): Promise<void> {
    if (runner.isTransactionActive) this.buffer.add(runner, tags);
    else await this.flush(tags);
  }

  /** After the commit the write stands whatever happens here: a failure is logged, never thrown at the writer. */
  private async flush(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    try {
      await this.qc.cache.invalidateTags(tags);
    } catch (cause) {
      const error = new QueryCacheInvalidationError(`invalidating ${tags.length} tags failed`, { cause });
      this.logger.error(`${error.message}: ${String(cause)}`);
    }
  }
}

function facts(
  event: InsertEvent<ObjectLiteral> | UpdateEvent<ObjectLiteral>,
): Pick<WriteFacts, 'metadata' | 'manager'> {
  return { metadata: event.metadata, manager: event.manager };
}

function rowFacts(event: RowEvent): WriteFacts {
  const before = event.databaseEntity ?? event.entity;
  return { metadata: event.metadata, manager: event.manager, keys: [event.entityId, before], rows: [before] };
}
