import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, LessThan, MoreThan, type DataSource, type EntityManager } from 'typeorm';
import { estimateTokens, type ChatMessage } from '@app/ai';
import { CacheService, type NamespacedCache } from '@app/cache';
import { CONVERSATION_STATE_OPTIONS, conversationHeaderTag, conversationTag } from './conversation-state.constants';
import {
  ConversationNotFoundError,
  ConversationVersionConflictError,
  ExchangeAbandonedError,
} from './conversation-state.errors';
import type { ResolvedConversationStateOptions } from './conversation-state.options';
import {
  toConversationView,
  toMessageView,
  type ConversationHeader,
  type ConversationState,
  type ConversationView,
  type MessageView,
} from './conversation.views';
import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';

/** What a new conversation is made of. */
export interface NewConversation {
  boardroomId: string;
  createdBy: string;
  title: string;
  model: string;
  systemPrompt?: string | null;
}

/**
 * An exchange in progress: the user message stored at `seq`, its assistant
 * message reserved (`pending`) at `seq + 1`, and the list the model is to
 * see (system prompt, the complete history before it within the budget, the
 * user message).
 */
export interface Exchange {
  conversation: ConversationView;
  userMessage: MessageView;
  assistantMessage: MessageView;
  prompt: ChatMessage[];
}

/** The provider's answer to an exchange. */
export interface ExchangeAnswer {
  content: string;
  promptTokens: number;
  completionTokens: number;
  cached: boolean;
}

/**
 * AI conversation state. Postgres is the truth: every append commits there
 * first. The cache holds a hot copy of each active conversation (its recent
 * messages within a budget) under `{prefix}:c:cv:{id}`, and message pages
 * beside it, all tagged with the conversation; every write invalidates the
 * tag after its commit and before it returns, so no reader on any instance
 * sees a state older than an acknowledged write. A copy read in the second
 * half of its TTL is reloaded in the background: active conversations stay hot.
 *
 * Appends: one transaction takes the conversation's row lock and hands out
 * the next two `seq` (the user message and its answer's place), so appends
 * from any number of instances land in order with no gap or duplicate, and
 * each answer sits right after its question.
 */
@Injectable()
export class ConversationStateService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ConversationStateService.name);
  private readonly cache: NamespacedCache;
  private sweeper?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    cacheService: CacheService,
    @Inject(CONVERSATION_STATE_OPTIONS) private readonly options: ResolvedConversationStateOptions,
  ) {
    this.cache = cacheService.namespace(options.namespace);
  }

  onModuleInit(): void {
    if (this.options.sweepIntervalMs === 0) return;
    this.sweeper = setInterval(() => {
      this.sweepPending().catch((error: unknown) =>
        this.logger.warn(`sweeping pending exchanges failed: ${String(error)}`),
      );
    }, this.options.sweepIntervalMs);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /**
   * Marks `failed` every message still `pending` `pendingTimeout` after it
   * was posted (an exchange whose process died while the provider answered),
   * and drops the cached copies of their conversations. Every instance runs
   * it; the update is idempotent. Resolves with the number of messages marked.
   */
  async sweepPending(): Promise<number> {
    const rows: Array<{ conversation_id: string }> = await this.db.query(
      `UPDATE "conversation_messages" SET "status" = 'failed'
        WHERE "status" = 'pending' AND "created_at" < now() - make_interval(secs => $1)
        RETURNING "conversation_id"`,
      [this.options.pendingTimeoutMs / 1000],
    );
    const updated = Array.isArray(rows[0]) ? (rows[0] as Array<{ conversation_id: string }>) : rows;
    const ids = [...new Set(updated.map((row) => row.conversation_id))];
    if (ids.length > 0) {
      await this.cache.invalidateTags(ids.map(conversationTag));
      this.logger.warn(`marked ${updated.length} abandoned pending messages failed in ${ids.length} conversations`);
    }
    return updated.length;
  }

  async create(input: NewConversation): Promise<ConversationState> {
    const repo = this.db.getRepository(ConversationEntity);
    const row = await repo.save(
      repo.create({
        boardroomId: input.boardroomId,
        createdBy: input.createdBy,
        title: input.title,
        model: input.model,
        systemPrompt: input.systemPrompt ?? null,
        context: {},
      }),
    );
    // Reloaded: the defaults (version, dates) are the database's.
    return this.get(row.id);
  }

  /** The hot state, from the cache or Postgres; `ConversationNotFoundError` when there is none. */
  async get(id: string): Promise<ConversationState> {
    const state = await this.cache.getOrSet(id, () => this.load(id), {
      ttl: this.options.ttlMs,
      tags: [conversationTag(id)],
      refreshAhead: 0.5,
      cacheable: (value) => value !== null,
    });
    if (!state) throw new ConversationNotFoundError();
    return state;
  }

  /**
   * The conversation's immutable fields, cached apart from the state: an
   * append invalidates the state, not this, so posting and paging check
   * access without reloading the history. `ConversationNotFoundError` when there is none.
   */
  async header(id: string): Promise<ConversationHeader> {
    const header = await this.cache.getOrSet(
      `h:${id}`,
      async (): Promise<ConversationHeader | null> => {
        const row = await this.db.getRepository(ConversationEntity).findOne({
          where: { id },
          select: { id: true, boardroomId: true, createdBy: true, model: true, systemPrompt: true },
        });
        return (
          row && {
            id,
            boardroomId: row.boardroomId,
            createdBy: row.createdBy,
            model: row.model,
            systemPrompt: row.systemPrompt,
          }
        );
      },
      { ttl: this.options.ttlMs, tags: [conversationHeaderTag(id)], cacheable: (value) => value !== null },
    );
    if (!header) throw new ConversationNotFoundError();
    return header;
  }

  /**
   * Messages after `afterSeq`, oldest first, at most `limit` (a page). Past
   * the last message the page is empty: answered from the hot state's
   * `lastSeq` and never cached, so no `afterSeq` a caller makes up adds an
   * entry (the pages cached are at most the conversation's own messages per
   * `limit`), and once a message arrives the next read loads it.
   */
  async messages(id: string, afterSeq: number, limit: number): Promise<MessageView[]> {
    if (afterSeq >= (await this.get(id)).lastSeq) return [];
    return this.cache.getOrSet(
      `m:${id}:${afterSeq}:${limit}`,
      async () => {
        const rows = await this.db.getRepository(MessageEntity).find({
          where: { conversationId: id, seq: MoreThan(afterSeq) },
          order: { seq: 'ASC' },
          take: limit,
        });
        return rows.map(toMessageView);
      },
      { ttl: this.options.ttlMs, tags: [conversationTag(id)] },
    );
  }

  /**
   * Stores the user message and reserves its answer's place, in one
   * transaction under the conversation's row lock, and returns what the model is to see.
   */
  async beginExchange(id: string, authorId: string, content: string): Promise<Exchange> {
    const exchange = await this.afterWrite(id, () =>
      this.db.transaction(async (tx) => {
        const conversation = await tx.findOne(ConversationEntity, {
          where: { id },
          lock: { mode: 'pessimistic_write' },
        });
        if (!conversation) throw new ConversationNotFoundError();
        const seq = conversation.lastSeq + 1;
        const history = await this.history(tx, id, seq, content);
        const messages = tx.getRepository(MessageEntity);
        const [user, assistant] = await messages.save([
          messages.create({ conversationId: id, seq, role: 'user', content, status: 'pending', authorId }),
          messages.create({ conversationId: id, seq: seq + 1, role: 'assistant', content: '', status: 'pending' }),
        ]);
        conversation.lastSeq = seq + 1;
        conversation.lastActiveAt = new Date();
        await tx
          .getRepository(ConversationEntity)
          .update({ id }, { lastSeq: conversation.lastSeq, lastActiveAt: conversation.lastActiveAt });
        const prompt: ChatMessage[] = [
          ...(conversation.systemPrompt ? [{ role: 'system' as const, content: conversation.systemPrompt }] : []),
          ...history,
          { role: 'user', content },
        ];
        // `save` read the generated columns (id, created_at, defaults) back with RETURNING.
        return {
          conversation: toConversationView(conversation),
          userMessage: toMessageView(user),
          assistantMessage: toMessageView(assistant),
          prompt,
        };
      }),
    );
    return exchange;
  }

  /**
   * Stores the answer in the reserved place and completes the exchange, in
   * one transaction; both messages as stored. Only while both are still
   * `pending`: if the sweeper gave the exchange up meanwhile (marked it
   * `failed`, which readers may already have seen and reposted after),
   * nothing changes and it is `ExchangeAbandonedError`; if the conversation
   * was deleted, `ConversationNotFoundError`. Never reported complete unless stored so.
   */
  async finishExchange(
    exchange: Exchange,
    answer: ExchangeAnswer,
  ): Promise<{ userMessage: MessageView; assistantMessage: MessageView }> {
    const fields = {
      content: answer.content,
      status: 'complete' as const,
      promptTokens: answer.promptTokens,
      completionTokens: answer.completionTokens,
      cached: answer.cached,
    };
    await this.afterWrite(exchange.conversation.id, () =>
      this.db.transaction(async (tx) => {
        const messages = tx.getRepository(MessageEntity);
        // The sweeper marks both rows in one statement: either both are still pending or neither.
        const answered = await messages.update({ id: exchange.assistantMessage.id, status: 'pending' }, fields);
        const asked = answered.affected
          ? await messages.update({ id: exchange.userMessage.id, status: 'pending' }, { status: 'complete' })
          : answered;
        if (!asked.affected) {
          // Throwing rolls back the answer if it was written.
          const exists = await messages.exists({ where: { id: exchange.assistantMessage.id } });
          throw exists ? new ExchangeAbandonedError() : new ConversationNotFoundError();
        }
      }),
    );
    // The reserved rows with the answer: nothing else of them changes.
    return {
      userMessage: { ...exchange.userMessage, status: 'complete' },
      assistantMessage: { ...exchange.assistantMessage, ...fields },
    };
  }

  /**
   * The provider failed: both messages of the exchange are marked `failed`
   * (kept, never shown to the model). Only while still `pending`: an exchange
   * already complete stays so (its answer was acknowledged).
   */
  async failExchange(exchange: Exchange): Promise<void> {
    await this.afterWrite(exchange.conversation.id, () =>
      this.db
        .getRepository(MessageEntity)
        .update(
          { id: In([exchange.userMessage.id, exchange.assistantMessage.id]), status: 'pending' },
          { status: 'failed' },
        ),
    );
  }

  /**
   * Changes title and/or context if the conversation is still at
   * `expectedVersion`; the version goes up by one. A stale version is
   * `ConversationVersionConflictError` (409), nothing changed.
   */
  async update(
    id: string,
    changes: { title?: string; context?: Record<string, unknown> },
    expectedVersion: number,
  ): Promise<ConversationState> {
    const result = await this.afterWrite(id, () =>
      this.db
        .createQueryBuilder()
        .update(ConversationEntity)
        .set({
          ...(changes.title !== undefined && { title: changes.title }),
          ...(changes.context !== undefined && { context: changes.context as ConversationEntity['context'] & object }),
          version: () => '"version" + 1',
        })
        .where('id = :id AND version = :expectedVersion', { id, expectedVersion })
        .execute(),
    );
    if (!result.affected) {
      const current = await this.db
        .getRepository(ConversationEntity)
        .findOne({ where: { id }, select: { version: true } });
      if (!current) throw new ConversationNotFoundError();
      throw new ConversationVersionConflictError(expectedVersion, current.version);
    }
    return this.get(id);
  }

  /** Deletes the conversation, its messages and every cached copy. */
  async delete(id: string): Promise<void> {
    const tags = [conversationTag(id), conversationHeaderTag(id)];
    const deleted = await this.afterWrite(
      id,
      () =>
        this.db.transaction(async (tx) => {
          await tx.delete(MessageEntity, { conversationId: id });
          return (await tx.delete(ConversationEntity, { id })).affected ?? 0;
        }),
      tags,
    );
    if (!deleted) throw new ConversationNotFoundError();
  }

  /** Loads conversations' hot copies into the cache; failures are logged, never thrown. */
  async warm(ids: readonly string[]): Promise<number> {
    let warmed = 0;
    for (const id of ids) {
      try {
        await this.get(id);
        warmed++;
      } catch (error) {
        if (!(error instanceof ConversationNotFoundError))
          this.logger.warn(`warming conversation ${id} failed: ${String(error)}`);
      }
    }
    return warmed;
  }

  /**
   * The conversations a deletion elsewhere changes in the database by
   * itself, as `manager` (the deleting transaction, holding the locks that
   * keep new ones out) sees them: those of `boardroomIds` (their rows go
   * with the boardroom, `ON DELETE CASCADE`) and, for `userId`, those the
   * user created or wrote a message in (`created_by` and `author_id` become
   * null). Hand them to `forget` once that transaction has committed.
   */
  async affectedBy(
    manager: EntityManager,
    changes: { boardroomIds?: readonly string[]; userId?: string },
  ): Promise<string[]> {
    const ids = new Set<string>();
    const { boardroomIds = [], userId } = changes;
    const where = [
      ...(boardroomIds.length > 0 ? [{ boardroomId: In([...boardroomIds]) }] : []),
      ...(userId ? [{ createdBy: userId }] : []),
    ];
    if (where.length > 0) {
      for (const row of await manager.find(ConversationEntity, { select: { id: true }, where })) ids.add(row.id);
    }
    if (userId) {
      const rows = await manager
        .createQueryBuilder(MessageEntity, 'm')
        .select('DISTINCT m.conversation_id', 'id')
        .where('m.author_id = :userId', { userId })
        .getRawMany<{ id: string }>();
      for (const row of rows) ids.add(row.id);
    }
    return [...ids];
  }

  /**
   * Drops every cached copy (state, history and header) of `ids`, on every
   * instance: for conversations the database changed without this service
   * (see `affectedBy`).
   */
  async forget(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.cache.invalidateTags(ids.flatMap((id) => [conversationTag(id), conversationHeaderTag(id)]));
  }

  /**
   * Runs a write, then drops the conversation's cached copies (its state by
   * default), also when the write failed: a failure may come after Postgres
   * applied it (a COMMIT or an UPDATE whose answer was lost), and the copies
   * would otherwise show the old state on every instance for
   * `CACHE_TTL_CONVERSATION`. A refused write costs one needless miss. After
   * a failed write the write's error is the one thrown: an invalidation
   * that fails as well is logged, not put in its place.
   */
  private async afterWrite<T>(id: string, write: () => Promise<T>, tags = [conversationTag(id)]): Promise<T> {
    let result: T;
    try {
      result = await write();
    } catch (error) {
      await this.cache
        .invalidateTags(tags)
        .catch((cause: unknown) =>
          this.logger.error(
            `conversation ${id}: dropping its cached copies after a failed write failed: ${String(cause)}`,
          ),
        );
      throw error;
    }
    await this.cache.invalidateTags(tags);
    return result;
  }

  /** Drops every cached copy of the conversation, on every instance. */
  invalidate(id: string): Promise<void> {
    return this.cache.invalidateTags([conversationTag(id)]);
  }

  private async load(id: string): Promise<ConversationState | null> {
    const row = await this.db.getRepository(ConversationEntity).findOneBy({ id });
    if (!row) return null;
    const recent = await this.db.getRepository(MessageEntity).find({
      where: { conversationId: id },
      order: { seq: 'DESC' },
      take: this.options.maxMessages,
    });
    return { ...toConversationView(row), messages: this.withinBudget(recent, 0, true).reverse().map(toMessageView) };
  }

  /** The complete messages before `seq` the model sees with `content`, oldest first, within the budget. */
  private async history(tx: EntityManager, id: string, seq: number, content: string): Promise<ChatMessage[]> {
    const rows = await tx.find(MessageEntity, {
      where: { conversationId: id, seq: LessThan(seq), status: 'complete' },
      order: { seq: 'DESC' },
      take: this.options.maxMessages - 1,
    });
    return this.withinBudget(rows, estimateTokens(content), false)
      .reverse()
      .map((row) => ({ role: row.role, content: row.content }));
  }

  /**
   * The newest of `rows` (newest first) whose estimated tokens, with `used`
   * already spent, fit the budget; with `atLeastOne`, the newest even if it alone does not.
   */
  private withinBudget(rows: MessageEntity[], used: number, atLeastOne: boolean): MessageEntity[] {
    const kept: MessageEntity[] = [];
    for (const row of rows) {
      used += estimateTokens(row.content);
      if (used > this.options.maxTokens && (kept.length > 0 || !atLeastOne)) break;
      kept.push(row);
    }
    return kept;
  }
}
