import { Controller, Get, Headers, Inject, Res, UnauthorizedException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { createHash, timingSafeEqual } from 'node:crypto';
import { METRICS_SECURITY } from './metrics.constants';
import { METRICS_OPTIONS } from './metrics.module-definition';
import type { MetricsModuleOptions } from './metrics.options';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `GET /metrics`: Prometheus text format, optionally behind a bearer token. */
@ApiTags('ops')
@Controller()
export class MetricsController extends PrometheusController {
  constructor(@Inject(METRICS_OPTIONS) private readonly options: MetricsModuleOptions) {
    super();
  }

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format)',
    description: 'When the app sets a metrics token (METRICS_TOKEN), `Authorization: Bearer <token>` is required.',
    security: [{}, { [METRICS_SECURITY]: [] }],
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiUnauthorizedResponse({ description: 'A metrics token is set and was not presented' })
  override async index(
    @Res({ passthrough: true }) response: unknown,
    @Headers('authorization') authorization?: string,
  ) {
    if (this.options.token && !this.authorized(authorization, this.options.token)) {
      throw new UnauthorizedException('A valid metrics token is required');
    }
    return super.index(response);
  }

  private authorized(header: string | undefined, token: string): boolean {
    // As the API reads a bearer token (RFC 9110 §11.4): any case of the scheme, then one or more spaces.
    const presented = (header === undefined ? undefined : /^Bearer +(\S+)$/i.exec(header)?.[1]) ?? '';
    // Compare digests so the comparison is constant-time whatever the lengths.
    return timingSafeEqual(digest(presented), digest(token));
  }
}
