import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CanonicalUuidPipe } from '../common/uuid.pipe';
import { ApiUuidParams } from '../http/openapi';
import { SessionDto } from './auth.dto';
import { CurrentUser, SessionService, type AuthenticatedUser, type SessionView } from '@app/auth';

/** `/api/v1/auth/sessions`: the caller's own refresh sessions. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  @ApiOperation({ summary: "The caller's live sessions, newest first" })
  @ApiOkResponse({ type: [SessionDto] })
  list(@CurrentUser() caller: AuthenticatedUser): Promise<SessionView[]> {
    return this.sessions.list(caller.id);
  }

  /**
   * Ends one of the caller's sessions and every access token issued for it;
   * 404 for anyone else's, 400 for an id that is no UUID (in any case: the
   * id is read in lower case, as every UUID path parameter is).
   */
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: "End one of the caller's sessions" })
  @ApiUuidParams('id')
  @ApiNoContentResponse({ description: 'The session and its access tokens are revoked' })
  @ApiNotFoundResponse({ description: 'No such session of the caller' })
  revoke(@CurrentUser() caller: AuthenticatedUser, @Param('id', CanonicalUuidPipe) id: string): Promise<void> {
    return this.sessions.endOwn(caller.id, id);
  }
}
