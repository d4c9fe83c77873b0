import { Controller, Get, Headers, Inject, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { createHash, timingSafeEqual } from 'node:crypto';
import { METRICS_OPTIONS } from './metrics.module-definition';
import type { MetricsModuleOptions } from './metrics.options';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `GET /metrics`: Prometheus text format, optionally behind a bearer token. */
@ApiExcludeController()
@Controller()
export class MetricsController extends PrometheusController {
  constructor(@Inject(METRICS_OPTIONS) private readonly options: MetricsModuleOptions) {
    super();
  }

  @Get()
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
    const presented = header?.startsWith('Bearer ') ? header.slice(7) : '';
    // Compare digests so the comparison is constant-time whatever the lengths.
    return timingSafeEqual(digest(presented), digest(token));
  }
}
