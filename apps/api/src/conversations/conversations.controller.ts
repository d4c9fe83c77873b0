import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, type AuthenticatedUser } from '@app/auth';
import type { ConversationState, MessageView } from '@app/conversation-state';
import { HttpCache } from '@app/http-cache';
import { CreateConversationDto, MessagesQuery, PostMessageDto, UpdateConversationDto } from './conversations.dto';
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
@Controller('conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  // Per user: membership is checked in the service, and is one of the response's dependencies.
  @Get(':id')
  @HttpCache({ query: [] })
  get(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
  ): Promise<ConversationState> {
    return this.conversations.get(caller, id);
  }

  @Patch(':id')
  update(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: UpdateConversationDto,
  ): Promise<ConversationState> {
    return this.conversations.update(caller, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentUser() caller: AuthenticatedUser, @Param('id', CanonicalUuidPipe) id: string): Promise<void> {
    return this.conversations.remove(caller, id);
  }

  @Get(':id/messages')
  @HttpCache({ query: ['afterSeq', 'limit'] })
  messages(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Query() query: MessagesQuery,
  ): Promise<MessageView[]> {
    return this.conversations.messages(caller, id, query);
  }

  /**
   * Posts a message and answers it: `201 {userMessage, assistantMessage,
   * cached, stale}`, or with `Accept: text/event-stream` a stream of `token`
   * events and a final `done` (or `error`) event. Bad input, a missing
   * conversation or a non-member are plain JSON errors either way.
   */
  @Post(':id/messages')
  @ApiCreatedResponse({ description: 'The user message and the answer, stored' })
  @ApiProduces('application/json', 'text/event-stream')
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
