import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthenticatedUser, type PublicUser } from '@app/auth';
import { HttpCache } from '@app/http-cache';
import { PaginationQuery, type Page } from '../common/pagination.dto';
import { ApiUuidParams } from '../http/openapi';
import { UpdateUserDto, UserDto, UserPageDto } from './users.dto';
import { UsersService } from './users.service';
import { CanonicalUuidPipe } from '../common/uuid.pipe';

/** `/api/v1/users`: cached reads for any user, writes by the user themself or an admin. */
@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  // Shared: every authenticated user may read every user, and the response
  // does not depend on who asks (no per-caller field, no check in the handler).
  @Get()
  @HttpCache({ scope: 'shared' })
  @ApiOperation({ summary: 'A page of users (HTTP-cached, shared by every caller)' })
  @ApiOkResponse({ type: UserPageDto })
  list(@Query() query: PaginationQuery): Promise<Page<PublicUser>> {
    return this.users.list(query);
  }

  @Get(':id')
  @HttpCache({ scope: 'shared', query: [] })
  @ApiOperation({ summary: 'One user (HTTP-cached, shared)' })
  @ApiUuidParams('id')
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  get(@Param('id', CanonicalUuidPipe) id: string): Promise<PublicUser> {
    return this.users.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name or email (the user or an admin) or role (an admin)' })
  @ApiUuidParams('id')
  @ApiOkResponse({ type: UserDto })
  @ApiForbiddenResponse({ description: "Someone else's account, or a role change by a non-admin" })
  @ApiNotFoundResponse({ description: 'No such user' })
  @ApiConflictResponse({ description: 'The email is taken' })
  update(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', CanonicalUuidPipe) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<PublicUser> {
    return this.users.update(caller, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({ summary: 'Delete a user and revoke their tokens (admins)' })
  @ApiUuidParams('id')
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiForbiddenResponse({ description: 'The caller is not an admin' })
  @ApiNotFoundResponse({ description: 'No such user' })
  remove(@Param('id', CanonicalUuidPipe) id: string): Promise<void> {
    return this.users.remove(id);
  }
}
