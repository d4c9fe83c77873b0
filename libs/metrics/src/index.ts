export { MetricsModule } from './metrics.module';
export type { MetricsModuleOptions } from './metrics.options';
export { HttpMetricsService, type HookableServer } from './http-metrics.service';
export { CacheMetrics } from './cache-metrics.service';
export { METRIC, METRICS_SECURITY, UNMATCHED_ROUTE } from './metrics.constants';
export { CacheMetricsBridge } from './cache-metrics.bridge';
export { MetricsController } from './metrics.controller';
