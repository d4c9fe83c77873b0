import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { AiMetricsBridge } from './ai-metrics.bridge';
import { CacheMetricsBridge } from './cache-metrics.bridge';
import { CacheMetrics } from './cache-metrics.service';
import { HttpCacheMetricsBridge } from './http-cache-metrics.bridge';
import { HttpMetricsService } from './http-metrics.service';
import { MetricsController } from './metrics.controller';
import { METRICS_OPTIONS, MetricsConfigurableModule } from './metrics.module-definition';
import { metricProviders } from './metrics.providers';

/**
 * Prometheus metrics: `GET /metrics` with the default Node metrics, HTTP
 * request durations by route pattern, and the cache metrics of the design.
 * `MetricsModule.forRoot({ token })` or `forRootAsync(...)`; global by default.
 */
@Module({
  imports: [
    PrometheusModule.register({
      path: '/metrics',
      controller: MetricsController,
      // prom-client's registry is process-wide: a second app in the same
      // process (tests, instances side by side) must not register the default
      // collectors again, which would throw.
      defaultMetrics: { enabled: !register.getSingleMetric('process_cpu_user_seconds_total') },
    }),
  ],
  providers: [
    ...metricProviders,
    HttpMetricsService,
    CacheMetrics,
    CacheMetricsBridge,
    HttpCacheMetricsBridge,
    AiMetricsBridge,
  ],
  // The options are exported because the controller lives in PrometheusModule's scope.
  exports: [METRICS_OPTIONS, HttpMetricsService, CacheMetrics, ...metricProviders],
})
export class MetricsModule extends MetricsConfigurableModule {}
