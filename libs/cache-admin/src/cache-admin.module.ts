import { ConfigurableModuleBuilder, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheAdminController } from './cache-admin.controller';
import { CacheAdminHooks } from './cache-admin-hooks';
import { CACHE_ADMIN_OPTIONS } from './cache-admin.constants';
import { resolveCacheAdminOptions, type CacheAdminModuleOptions } from './cache-admin.options';
import { CacheAuditEntity } from './cache-audit.entity';
import { CacheAuditService } from './cache-audit.service';
import { AdminDashboardController } from './dashboard.controller';
import { StatsSampler } from './stats-sampler';

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<CacheAdminModuleOptions>({
  moduleName: 'CacheAdmin',
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/**
 * `CacheAdminModule.forRoot(options)` (or `forRootAsync`), after
 * `CacheModule`, `AuthModule` and TypeORM: the `/cache/*` admin routes, their
 * audit log, the stats sampler, the `/admin` dashboard, and
 * `CacheAdminHooks` for the app to register its warmers on.
 */
@Module({
  imports: [TypeOrmModule.forFeature([CacheAuditEntity])],
  controllers: [CacheAdminController, AdminDashboardController],
  providers: [
    {
      provide: CACHE_ADMIN_OPTIONS,
      inject: [MODULE_OPTIONS_TOKEN],
      useFactory: (options: CacheAdminModuleOptions) => resolveCacheAdminOptions(options),
    },
    CacheAdminHooks,
    CacheAuditService,
    StatsSampler,
  ],
  exports: [CacheAdminHooks, CacheAuditService, StatsSampler],
})
export class CacheAdminModule extends ConfigurableModuleClass {}
