export { CacheAdminModule } from './cache-admin.module';
export { CacheAdminHooks, type Warmer } from './cache-admin-hooks';
export { CacheAuditService, type AuditEntry, type ListedAuditEntry, type PendingAudit } from './cache-audit.service';
export { CacheAuditEntity, type AuditOutcome } from './cache-audit.entity';
export { StatsSampler, type StatsSample } from './stats-sampler';
export { resolveCacheAdminOptions, type CacheAdminModuleOptions } from './cache-admin.options';
export { AdminDashboardController, ADMIN_DASHBOARD_CSP } from './dashboard.controller';
