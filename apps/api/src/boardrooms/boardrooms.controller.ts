import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthenticatedUser } from '@app/auth';
import { HttpCache } from '@app/http-cache';
import { PaginationQuery, type Page } from '../common/pagination.dto';
import type { BoardroomView } from './boardroom.view';
import { AddMemberDto, CreateBoardroomDto, UpdateBoardroomDto } from './boardrooms.dto';
import { BoardroomsService } from './boardrooms.service';
import { CanonicalUuidPipe } from '../common/uuid.pipe';

/** `/api/v1/boardrooms`: members read, owners write, admins everything. */
@ApiTags('boardrooms')
@ApiBearerAuth()
@Controller('boardrooms')
export class BoardroomsController {
  constructor(private readonly boardrooms: BoardroomsService) {}

  @Post()
  create(@CurrentUser() caller: AuthenticatedUser, @Body() body: CreateBoardroomDto): Promise<BoardroomView> {
    return this.boardrooms.create(caller, body);
  }

  // Per user: the list is the caller's own boardrooms.
  @Get()
  @HttpCache()
  listMine(@CurrentUser() caller: AuthenticatedUser, @Query() query: PaginationQuery): Promise<Page<BoardroomView>> {
    return this.boardrooms.listMine(caller, query);
  }

  // Per user: membership is checked in the service, so the response may only
  // be served to the caller it was built for; the membership read is one of
  // its dependencies, so removing the member invalidates it.
  @Get(':id')
  @HttpCache({ query: [] })
  get(@CurrentUser() caller: AuthenticatedUser, @Param('id', CanonicalUuidPipe) id: string): Promise<BoardroomView> {
    return this.boardrooms.get(caller, id);
  }

  @Patch(':id')
  update(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: UpdateBoardroomDto,
  ): Promise<BoardroomView> {
    return this.boardrooms.update(caller, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentUser() caller: AuthenticatedUser, @Param('id', CanonicalUuidPipe) id: string): Promise<void> {
    return this.boardrooms.remove(caller, id);
  }

  @Post(':id/members')
  addMember(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: AddMemberDto,
  ): Promise<BoardroomView> {
    return this.boardrooms.addMember(caller, id, body);
  }

  @Delete(':id/members/:userId')
  @HttpCode(204)
  removeMember(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Param('userId', CanonicalUuidPipe) userId: string,
  ): Promise<void> {
    return this.boardrooms.removeMember(caller, id, userId);
  }
}
