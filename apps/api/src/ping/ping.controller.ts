import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EchoDto } from './echo.dto';

/**
 * `GET /api/v1/ping`: no database, no cache: the throughput ceiling the
 * benchmarks compare against. `POST` echoes a validated body (a probe of the
 * body parser, size limit and validation).
 */
@ApiTags('ops')
@Controller('ping')
export class PingController {
  @Get()
  @ApiOkResponse({ description: 'The process answers', schema: { example: { pong: true } } })
  ping(): { pong: true } {
    return { pong: true };
  }

  @Post()
  @HttpCode(200)
  @ApiOkResponse({ description: 'The validated body, echoed', schema: { example: { pong: true, message: 'hello' } } })
  echo(@Body() body: EchoDto): { pong: true; message: string } {
    return { pong: true, message: body.message };
  }
}
