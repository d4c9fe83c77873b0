import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PongDto } from './echo.dto';

/**
 * `GET /api/v1/ping/auth`: the authenticated ceiling, the same constant as
 * `GET /api/v1/ping` behind the whole request pipeline of a protected route
 * (token check, revocation check, role guard, rate limit, logging, metrics)
 * and nothing else: no database, no cache, no parameters.
 */
@ApiTags('ops')
@ApiBearerAuth()
@Controller('ping/auth')
export class AuthPingController {
  @Get()
  @ApiOperation({ summary: 'A constant answer behind the whole pipeline of a protected route' })
  @ApiOkResponse({ description: 'The caller is authenticated', type: PongDto })
  ping(): { pong: true } {
    return { pong: true };
  }
}
