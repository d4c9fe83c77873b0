import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthenticatedUser } from '@app/auth';

/**
 * `GET /api/v1/ping/auth`: the authenticated ceiling. The whole request
 * pipeline (token check, revocation check, role guard, rate limit, logging,
 * metrics) and nothing else: no database, no cache.
 */
@ApiTags('ops')
@ApiBearerAuth()
@Controller('ping/auth')
export class AuthPingController {
  @Get()
  @ApiOkResponse({ description: 'The caller is authenticated', schema: { example: { pong: true, user: 'uuid' } } })
  ping(@CurrentUser() user: AuthenticatedUser): { pong: true; user: string } {
    return { pong: true, user: user.id };
  }
}
