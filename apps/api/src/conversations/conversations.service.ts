import { BadRequestException, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CompletionCache, type CompletionRequest, type TokenSink } from '@app/ai';
import { AuthError, AuthService, type AuthenticatedUser } from '@app/auth';
import {
  ConversationNotFoundError,
  ConversationStateService,
  type ConversationHeader,
  type ConversationState,
  type Exchange,
  type MessageView,
} from '@app/conversation-state';
import { BoardroomsService } from '../boardrooms/boardrooms.service';
import { DomainError, FOREIGN_KEY_VIOLATION, pgCode, pgConstraint } from '../common/domain.errors';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.constants';
import {
  MAX_CONTEXT_CHARS,
  type CreateConversationDto,
  type MessagesQuery,
  type PostMessageDto,
  type UpdateConversationDto,
} from './conversations.dto';

/** The foreign key of a message's author (Postgres's default name, from the conversations migration). */
const AUTHOR_FOREIGN_KEY = 'conversation_messages_author_id_fkey';
/** The constraint a new conversation by a deleted account breaks. */
const CREATOR_FOREIGN_KEY = 'conversations_created_by_fkey';

/** `201` of `POST /conversations/:id/messages`: the exchange as stored. */
export interface PostedExchange {
  userMessage: MessageView;
  assistantMessage: MessageView;
  /** The answer came from the completion cache. */
  cached: boolean;
  /** It was a cached answer past its TTL, served because the provider failed. */
  stale: boolean;
}

/** A posted message whose answer is yet to come (the streaming route answers in between). */
export interface BegunExchange {
  exchange: Exchange;
  request: CompletionRequest;
  dto: PostMessageDto;
  caller: AuthenticatedUser;
}

/**
 * Conversations in boardrooms: members read and post, the conversation's
 * creator, the boardroom's owner or an admin deletes. A conversation of a
 * boardroom the caller is not in is a 404 (its existence is not disclosed).
 *
 * Posting a message: the user message is stored and its answer's place
 * reserved (one transaction, `ConversationStateService.beginExchange`), then
 * the completion cache answers (the provider, or a cached answer), then the
 * answer is stored. When the provider fails, both messages are kept marked
 * `failed` (502): the history the model sees skips them, `seq` stays contiguous.
 */
@Injectable()
export class ConversationsService implements OnModuleInit {
  private readonly logger = new Logger(ConversationsService.name);

  constructor(
    private readonly state: ConversationStateService,
    private readonly completions: CompletionCache,
    private readonly boardrooms: BoardroomsService,
    private readonly auth: AuthService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const limit = this.config.conversations.warmOnLogin;
    if (limit > 0) this.auth.onLogin(async (userId) => void (await this.warmRecent(userId, limit)));
  }

  async create(
    caller: AuthenticatedUser,
    boardroomId: string,
    input: CreateConversationDto,
  ): Promise<ConversationState> {
    await this.boardrooms.requireRole(caller, boardroomId, ['owner', 'member']);
    const model = input.model ?? this.config.ai.model;
    if (!this.config.ai.models.includes(model))
      throw new BadRequestException(`model must be one of: ${this.config.ai.models.join(', ')}`);
    try {
      return await this.state.create({
        boardroomId,
        createdBy: caller.id,
        title: input.title ?? 'New conversation',
        model,
        systemPrompt: input.systemPrompt ?? null,
      });
    } catch (error) {
      // The creator's account was deleted after their token passed the guard (an admin's: a member's
      // membership went first, and the role check refused): a 401, as for a post by a deleted author.
      if (pgCode(error) === FOREIGN_KEY_VIOLATION && pgConstraint(error) === CREATOR_FOREIGN_KEY)
        throw AuthError.unauthenticated('Account no longer exists');
      // An admin passes the role check for any id: a boardroom that does not exist (or just went) is a 404.
      if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw DomainError.notFound('Boardroom');
      throw error;
    }
  }

  /** The hot state: the conversation and its recent messages. */
  async get(caller: AuthenticatedUser, id: string): Promise<ConversationState> {
    await this.visible(caller, id);
    try {
      return await this.state.get(id);
    } catch (error) {
      throw notFoundAsDomain(error);
    }
  }

  async messages(caller: AuthenticatedUser, id: string, query: MessagesQuery): Promise<MessageView[]> {
    await this.visible(caller, id);
    return this.state.messages(id, query.afterSeq, query.limit);
  }

  async update(caller: AuthenticatedUser, id: string, input: UpdateConversationDto): Promise<ConversationState> {
    await this.visible(caller, id);
    if (input.context !== undefined) checkContext(input.context);
    try {
      return await this.state.update(id, { title: input.title, context: input.context }, input.version);
    } catch (error) {
      throw notFoundAsDomain(error);
    }
  }

  async remove(caller: AuthenticatedUser, id: string): Promise<void> {
    const conversation = await this.visible(caller, id);
    if (caller.role !== 'admin' && conversation.createdBy !== caller.id)
      await this.boardrooms.requireRole(caller, conversation.boardroomId, ['owner']);
    try {
      await this.state.delete(id);
    } catch (error) {
      throw notFoundAsDomain(error);
    }
  }

  /** Validates and stores the user message, reserving its answer's place. */
  async begin(caller: AuthenticatedUser, id: string, dto: PostMessageDto): Promise<BegunExchange> {
    const conversation = await this.visible(caller, id);
    const content = dto.content;
    if (content.trim() === '') throw new BadRequestException('content must not be empty');
    if (!this.config.ai.models.includes(conversation.model))
      throw new BadRequestException(`This conversation's model (${conversation.model}) is no longer offered`);
    const max = this.config.conversations.maxContentChars;
    if (content.length > max) throw new BadRequestException(`content must be at most ${max} characters`);
    let exchange: Exchange;
    try {
      exchange = await this.state.beginExchange(id, caller.id, content);
    } catch (error) {
      // The caller's account was deleted after their token passed the guard (its
      // revocation is on its way): a 401, as /auth/me and every revoked token answer.
      if (pgCode(error) === FOREIGN_KEY_VIOLATION && pgConstraint(error) === AUTHOR_FOREIGN_KEY)
        throw AuthError.unauthenticated('Account no longer exists');
      throw notFoundAsDomain(error);
    }
    const ai = this.config.ai;
    const request: CompletionRequest = {
      model: conversation.model,
      messages: exchange.prompt,
      params: {
        temperature: dto.temperature ?? ai.temperature,
        maxTokens: Math.min(dto.maxTokens ?? ai.maxTokens, ai.maxTokens),
      },
    };
    return { exchange, request, dto, caller };
  }

  /** Answers a begun exchange and stores the answer; `onToken` gets the text as it comes (streaming). */
  async answer(begun: BegunExchange, onToken?: TokenSink): Promise<PostedExchange> {
    const { exchange, request, dto, caller } = begun;
    try {
      const answer = await this.completions.complete({
        request,
        audience: { boardroomId: exchange.conversation.boardroomId, userId: caller.id },
        controls: dto.cache,
        onToken,
      });
      const stored = await this.state.finishExchange(exchange, {
        content: answer.content,
        promptTokens: answer.promptTokens,
        completionTokens: answer.completionTokens,
        cached: answer.cached,
      });
      return { ...stored, cached: answer.cached, stale: answer.stale };
    } catch (error) {
      await this.state
        .failExchange(exchange)
        .catch((cause: unknown) =>
          this.logger.error(`marking exchange ${exchange.userMessage.id} failed did not work: ${String(cause)}`),
        );
      throw error;
    }
  }

  async post(caller: AuthenticatedUser, id: string, dto: PostMessageDto): Promise<PostedExchange> {
    return this.answer(await this.begin(caller, id, dto));
  }

  /** Loads the user's most recently active conversations into the cache (after login). */
  async warmRecent(userId: string, limit: number): Promise<number> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT c."id" FROM "conversations" c
         JOIN "boardroom_members" m ON m."boardroom_id" = c."boardroom_id" AND m."user_id" = $1
        ORDER BY c."last_active_at" DESC LIMIT $2`,
      [userId, limit],
    );
    return this.state.warm(rows.map((row) => row.id));
  }

  /** The conversation's header, if the caller may see it; a 404 otherwise (missing, or not a member). */
  private async visible(caller: AuthenticatedUser, id: string): Promise<ConversationHeader> {
    let conversation: ConversationHeader;
    try {
      conversation = await this.state.header(id);
    } catch (error) {
      throw notFoundAsDomain(error);
    }
    try {
      await this.boardrooms.requireRole(caller, conversation.boardroomId, ['owner', 'member']);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'E_NOT_FOUND') throw DomainError.notFound('Conversation');
      throw error;
    }
    return conversation;
  }
}

function notFoundAsDomain(error: unknown): unknown {
  return error instanceof ConversationNotFoundError ? DomainError.notFound('Conversation') : error;
}

/** A context must fit 64 KiB as JSON and hold no NUL (Postgres `jsonb` refuses `\u0000`): a 400, not a 500. */
function checkContext(context: Record<string, unknown>): void {
  const json = JSON.stringify(context);
  if (json.length > MAX_CONTEXT_CHARS)
    throw new BadRequestException(`context must be at most ${MAX_CONTEXT_CHARS} characters as JSON`);
  if (hasNul(context)) throw new BadRequestException('context must not contain NUL characters');
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object')
    return Object.entries(value).some(([key, item]) => key.includes('\u0000') || hasNul(item));
  return false;
}
