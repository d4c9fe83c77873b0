import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthenticatedUser, type PublicUser } from '@app/auth';
import { HttpCache } from '@app/http-cache';
import { PaginationQuery, type Page } from '../common/pagination.dto';
import { UpdateUserDto } from './users.dto';
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
  list(@Query() query: PaginationQuery): Promise<Page<PublicUser>> {
    return this.users.list(query);
  }

  @Get(':id')
  @HttpCache({ scope: 'shared', query: [] })
  get(@Param('id', CanonicalUuidPipe) id: string): Promise<PublicUser> {
    return this.users.get(id);
  }

  @Patch(':id')
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
  remove(@Param('id', CanonicalUuidPipe) id: string): Promise<void> {
    return this.users.remove(id);
  }
}
