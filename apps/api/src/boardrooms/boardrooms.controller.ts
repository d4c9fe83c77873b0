import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, type AuthenticatedUser } from '@app/auth';
import { HttpCache } from '@app/http-cache';
import { PaginationQuery, type Page } from '../common/pagination.dto';
import type { BoardroomView } from './boardroom.view';
import { ApiUuidParams } from '../http/openapi';
import { AddMemberDto, BoardroomDto, BoardroomPageDto, CreateBoardroomDto, UpdateBoardroomDto } from './boardrooms.dto';
import { BoardroomsService } from './boardrooms.service';
import { CanonicalUuidPipe } from '../common/uuid.pipe';

/** `/api/v1/boardrooms`: members read, owners write, admins everything. */
@ApiTags('boardrooms')
@ApiBearerAuth()
@Controller('boardrooms')
export class BoardroomsController {
  constructor(private readonly boardrooms: BoardroomsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a boardroom; the caller becomes its owner' })
  @ApiCreatedResponse({ type: BoardroomDto })
  create(@CurrentUser() caller: AuthenticatedUser, @Body() body: CreateBoardroomDto): Promise<BoardroomView> {
    return this.boardrooms.create(caller, body);
  }

  // Per user: the list is the caller's own boardrooms.
  @Get()
  @HttpCache()
  @ApiOperation({ summary: "A page of the caller's boardrooms (HTTP-cached per user)" })
  @ApiOkResponse({ type: BoardroomPageDto })
  listMine(@CurrentUser() caller: AuthenticatedUser, @Query() query: PaginationQuery): Promise<Page<BoardroomView>> {
    return this.boardrooms.listMine(caller, query);
  }

  // Per user: membership is checked in the service, so the response may only
  // be served to the caller it was built for; the membership read is one of
  // its dependencies, so removing the member invalidates it.
  @Get(':id')
  @HttpCache({ query: [] })
  @ApiOperation({ summary: 'One boardroom with its members (members and admins; HTTP-cached per user)' })
  @ApiUuidParams('id')
  @ApiOkResponse({ type: BoardroomDto })
  @ApiNotFoundResponse({ description: 'No such boardroom, or the caller is not a member' })
  get(@CurrentUser() caller: AuthenticatedUser, @Param('id', CanonicalUuidPipe) id: string): Promise<BoardroomView> {
    return this.boardrooms.get(caller, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename or describe a boardroom (owner or admin)' })
  @ApiUuidParams('id')
  @ApiOkResponse({ type: BoardroomDto })
  @ApiForbiddenResponse({ description: 'The caller is a member, not the owner' })
  @ApiNotFoundResponse({ description: 'No such boardroom, or the caller is not a member' })
  update(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: UpdateBoardroomDto,
  ): Promise<BoardroomView> {
    return this.boardrooms.update(caller, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a boardroom with its members and conversations (owner or admin)' })
  @ApiUuidParams('id')
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiForbiddenResponse({ description: 'The caller is a member, not the owner' })
  @ApiNotFoundResponse({ description: 'No such boardroom, or the caller is not a member' })
  remove(@CurrentUser() caller: AuthenticatedUser, @Param('id', CanonicalUuidPipe) id: string): Promise<void> {
    return this.boardrooms.remove(caller, id);
  }

  @Post(':id/members')
  @ApiOperation({ summary: 'Add a member (owner or admin)' })
  @ApiUuidParams('id')
  @ApiCreatedResponse({ type: BoardroomDto })
  @ApiForbiddenResponse({ description: 'The caller is a member, not the owner' })
  @ApiNotFoundResponse({ description: 'No such boardroom or user, or the caller is not a member' })
  @ApiConflictResponse({ description: 'Already a member' })
  addMember(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: AddMemberDto,
  ): Promise<BoardroomView> {
    return this.boardrooms.addMember(caller, id, body);
  }

  @Delete(':id/members/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member (owner or admin), or leave (the member)' })
  @ApiUuidParams('id', 'userId')
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiForbiddenResponse({ description: 'Someone else, and the caller is not the owner' })
  @ApiNotFoundResponse({ description: 'No such member, or the caller is not a member' })
  @ApiConflictResponse({ description: 'The owner cannot leave' })
  removeMember(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Param('userId', CanonicalUuidPipe) userId: string,
  ): Promise<void> {
    return this.boardrooms.removeMember(caller, id, userId);
  }
}
