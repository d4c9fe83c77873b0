import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiGatewayTimeoutResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, type AuthenticatedUser } from '@app/auth';
import type { ConversationState, MessageView } from '@app/conversation-state';
import { HttpCache } from '@app/http-cache';
import { ApiUuidParams } from '../http/openapi';
import {
  ConversationDto,
  CreateConversationDto,
  MessageDto,
  MessagesQuery,
  PostedExchangeDto,
  PostMessageDto,
  UpdateConversationDto,
} from './conversations.dto';
import { ConversationsService, type PostedExchange } from './conversations.service';
import { streamExchange, wantsEventStream } from './event-stream';
import { CanonicalUuidPipe } from '../common/uuid.pipe';

/** `/api/v1/boardrooms/:id/conversations`: start a conversation in a boardroom (members). */
@ApiTags('conversations')
@ApiBearerAuth()
@Controller('boardrooms/:boardroomId/conversations')
export class BoardroomConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @ApiOperation({ summary: 'Start a conversation in a boardroom (members)' })
  @ApiUuidParams('boardroomId')
  @ApiCreatedResponse({ type: ConversationDto })
  @ApiNotFoundResponse({ description: 'No such boardroom, or the caller is not a member' })
  create(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('boardroomId', CanonicalUuidPipe) boardroomId: string,
    @Body() body: CreateConversationDto,
  ): Promise<ConversationState> {
    return this.conversations.create(caller, boardroomId, body);
  }
}

/** `/api/v1/conversations/:id`: state, messages, posting (JSON or server-sent events), context, delete. */
@ApiTags('conversations')
@ApiBearerAuth()
@ApiExtraModels(PostedExchangeDto)
@Controller('conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  // Per user: membership is checked in the service, and is one of the response's dependencies.
  @Get(':id')
  @HttpCache({ query: [] })
  @ApiOperation({ summary: 'The conversation and its recent messages (from its hot copy; HTTP-cached per user)' })
  @ApiUuidParams('id')
  @ApiOkResponse({ type: ConversationDto })
  @ApiNotFoundResponse({ description: 'No such conversation, or the caller is not a member of its boardroom' })
  get(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
  ): Promise<ConversationState> {
    return this.conversations.get(caller, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the title or the context, if still at `version`' })
  @ApiUuidParams('id')
  @ApiOkResponse({ type: ConversationDto })
  @ApiNotFoundResponse({ description: 'No such conversation, or the caller is not a member of its boardroom' })
  @ApiConflictResponse({ description: 'The conversation changed since `version`: read it again' })
  update(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: UpdateConversationDto,
  ): Promise<ConversationState> {
    return this.conversations.update(caller, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a conversation and its messages (members)' })
  @ApiUuidParams('id')
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such conversation, or the caller is not a member of its boardroom' })
  remove(@CurrentUser() caller: AuthenticatedUser, @Param('id', CanonicalUuidPipe) id: string): Promise<void> {
    return this.conversations.remove(caller, id);
  }

  @Get(':id/messages')
  @HttpCache({ query: ['afterSeq', 'limit'] })
  @ApiOperation({ summary: 'Messages after `afterSeq`, oldest first (HTTP-cached per user)' })
  @ApiUuidParams('id')
  @ApiOkResponse({ type: [MessageDto] })
  @ApiNotFoundResponse({ description: 'No such conversation, or the caller is not a member of its boardroom' })
  async messages(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Query() query: MessagesQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MessageView[]> {
    const page = await this.conversations.messages(caller, id, query);
    // Empty means past the last message (seq is contiguous): not stored, or every
    // made-up afterSeq would be a response of its own in the HTTP cache.
    if (page.length === 0) reply.header('cache-control', 'no-store');
    return page;
  }

  /**
   * Posts a message and answers it: `201 {userMessage, assistantMessage,
   * cached, stale}`, or with `Accept: text/event-stream` a stream of `token`
   * events and a final `done` (or `error`) event. Bad input, a missing
   * conversation or a non-member are plain JSON errors either way.
   */
  @Post(':id/messages')
  @ApiOperation({
    summary: 'Post a message and get the answer, as JSON or (Accept: text/event-stream) streamed',
    description:
      'With `Accept: text/event-stream` the answer streams as `token` events (`{"text": …}`), then one ' +
      '`done` event with the stored exchange, or an `error` event (`{"statusCode", "message"}`) if the provider fails ' +
      'mid-stream. Errors before the stream starts are plain JSON.',
  })
  @ApiUuidParams('id')
  @ApiCreatedResponse({
    description: 'The user message and the answer, both stored',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(PostedExchangeDto) } },
      'text/event-stream': { schema: { type: 'string', example: 'event: token\ndata: {"text":"Hel"}\n\n' } },
    },
  })
  @ApiNotFoundResponse({ description: 'No such conversation, or the caller is not a member of its boardroom' })
  @ApiBadGatewayResponse({ description: 'The AI provider failed and no cached answer could stand in' })
  @ApiGatewayTimeoutResponse({
    description: 'The answer came after the exchange was given up as abandoned (marked failed); nothing was stored',
  })
  async post(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: PostMessageDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const begun = await this.conversations.begin(caller, id, body);
    if (wantsEventStream(request.headers.accept)) {
      await streamExchange(reply, (onToken) => this.conversations.answer(begun, onToken));
      return;
    }
    const posted: PostedExchange = await this.conversations.answer(begun);
    await reply.code(201).send(posted);
  }
}
