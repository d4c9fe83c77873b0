import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EchoDto, EchoReplyDto, PongDto } from './echo.dto';

/**
 * `GET /api/v1/ping`: no database, no cache: the throughput ceiling the
 * benchmarks compare against. `POST` echoes a validated body (a probe of the
 * body parser, size limit and validation).
 */
@ApiTags('ops')
@Controller('ping')
export class PingController {
  @Get()
  @ApiOperation({ summary: "A constant answer: no auth, database or cache (the benchmarks' ceiling)" })
  @ApiOkResponse({ description: 'The process answers', type: PongDto })
  ping(): { pong: true } {
    return { pong: true };
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Echo a validated body (a probe of the body parser, its limits and validation)' })
  @ApiOkResponse({ description: 'The validated body, echoed', type: EchoReplyDto })
  echo(@Body() body: EchoDto): { pong: true; message: string } {
    return { pong: true, message: body.message };
  }
}
