import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import type { ChatRole } from '@app/ai';
import type { ConversationState, MessageStatus, MessageView } from '@app/conversation-state';
import {
  CanonicalInteger,
  canonicalIntegerMessage,
  IsOptionalNonNull,
  NoNulCharacter,
  Trim,
} from '../common/fields.decorator';

/** A conversation's title, as its `varchar(200)` column holds it: trimmed, 1 to 200 characters, no NUL. */
const TitleField = () => applyDecorators(Trim(), IsString(), Length(1, 200), NoNulCharacter());

/** Largest `context` object, as JSON (characters). */
export const MAX_CONTEXT_CHARS = 64 * 1024;

/** `POST /boardrooms/:id/conversations`. */
export class CreateConversationDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, default: 'New conversation' })
  @IsOptionalNonNull()
  @TitleField()
  title?: string;

  @ApiPropertyOptional({ maxLength: 100, description: 'The model to ask; AI_MODEL by default' })
  @IsOptionalNonNull()
  @IsString()
  @Matches(/^[A-Za-z0-9._:/@-]{1,100}$/, { message: 'model must be 1–100 characters of A-Z a-z 0-9 . _ : / @ -' })
  model?: string;

  @ApiPropertyOptional({ maxLength: 20_000 })
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  @NoNulCharacter()
  systemPrompt?: string;
}

/** `PATCH /conversations/:id`: title and/or context, if the conversation is still at `version` (else 409). */
export class UpdateConversationDto {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: 2_147_483_647,
    description: 'The version the change is based on',
  })
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  version: number;

  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOptionalNonNull()
  @TitleField()
  title?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Replaces the context (≤ 64 KiB)' })
  @IsOptionalNonNull()
  @IsObject()
  context?: Record<string, unknown>;
}

/** Per-request completion-cache controls (seconds), after LiteLLM's. */
export class CacheControlsDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 30 * 24 * 3600,
    description: 'Keep this answer at most this long (bounded by CACHE_TTL_AI)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(30 * 24 * 3600)
  ttl?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 30 * 24 * 3600,
    description: 'Accept a cached answer only if younger than this',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  maxAge?: number;

  @ApiPropertyOptional({ description: 'Do not answer from the cache (the new answer is still stored)' })
  @IsOptional()
  @IsBoolean()
  noCache?: boolean;

  @ApiPropertyOptional({ description: 'Do not store the answer' })
  @IsOptional()
  @IsBoolean()
  noStore?: boolean;
}

/** `POST /conversations/:id/messages`. */
export class PostMessageDto {
  @ApiProperty({ minLength: 1, description: 'At most CONVERSATION_MAX_CONTENT characters, not only blanks' })
  @IsString()
  @MaxLength(1_000_000)
  @NoNulCharacter()
  content: string;

  @ApiPropertyOptional({ type: CacheControlsDto })
  @IsOptionalNonNull()
  @IsObject()
  @ValidateNested()
  @Type(() => CacheControlsDto)
  cache?: CacheControlsDto;

  @ApiPropertyOptional({ minimum: 0, maximum: 2, description: 'AI_TEMPERATURE by default; only 0 is cached' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'AI_MAX_TOKENS by default, and at most that' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxTokens?: number;
}

/** `?afterSeq&limit`: messages after a `seq`, oldest first, at most 200. */
export class MessagesQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0, description: 'Messages after this `seq`' })
  @IsOptional()
  @CanonicalInteger()
  @IsInt({ message: canonicalIntegerMessage('afterSeq') })
  @Min(0)
  @Max(2_147_483_647)
  afterSeq: number = 0;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @CanonicalInteger()
  @IsInt({ message: canonicalIntegerMessage('limit') })
  @Min(1)
  @Max(200)
  limit: number = 50;
}

/** One message of a conversation. */
export class MessageDto implements MessageView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Its place in the conversation, contiguous from 1' })
  seq: number;
  @ApiProperty({ enum: ['system', 'user', 'assistant'] }) role: ChatRole;
  @ApiProperty() content: string;
  @ApiProperty({ enum: ['pending', 'complete', 'failed'], description: 'pending until the answer is stored' })
  status: MessageStatus;
  @ApiProperty({
    type: 'string',
    format: 'uuid',
    nullable: true,
    description: 'The user who wrote it; null for answers',
  })
  authorId: string | null;
  @ApiProperty({ type: 'integer', nullable: true }) promptTokens: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) completionTokens: number | null;
  @ApiProperty({ description: 'The answer came from the completion cache' }) cached: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

/** A conversation and its most recent messages (within the hot copy's budget), oldest first. */
export class ConversationDto implements ConversationState {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) boardroomId: string;
  @ApiProperty({ type: 'string', format: 'uuid', nullable: true, description: 'null once that user is deleted' })
  createdBy: string | null;
  @ApiProperty({ minLength: 1, maxLength: 200 }) title: string;
  @ApiProperty() model: string;
  @ApiProperty({ type: 'string', nullable: true }) systemPrompt: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) context: Record<string, unknown>;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Send it back with `PATCH` (optimistic concurrency)' })
  version: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The `seq` of the last message' }) lastSeq: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ format: 'date-time' }) lastActiveAt: string;
  @ApiProperty({ type: [MessageDto] }) messages: MessageDto[];
}

/** The answer of `POST /conversations/{id}/messages` (JSON). */
export class PostedExchangeDto {
  @ApiProperty({ type: MessageDto }) userMessage: MessageDto;
  @ApiProperty({ type: MessageDto }) assistantMessage: MessageDto;
  @ApiProperty({ description: 'The answer came from the completion cache' }) cached: boolean;
  @ApiProperty({ description: 'A cached answer past its TTL, served because the provider failed' }) stale: boolean;
}
