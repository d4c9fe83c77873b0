import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheAdminController } from './cache-admin.controller';
import { CacheAdminHooks } from './cache-admin-hooks';
import { CACHE_ADMIN_OPTIONS } from './cache-admin.constants';
import { resolveCacheAdminOptions, type CacheAdminModuleOptions } from './cache-admin.options';
import { CacheAuditEntity } from './cache-audit.entity';
import { CacheAuditService } from './cache-audit.service';
import { StatsSampler } from './stats-sampler';

/**
 * `CacheAdminModule.forRoot(options)`, after `CacheModule`, `AuthModule` and
 * TypeORM: the `/cache/*` admin routes, their audit log, the stats sampler,
 * and `CacheAdminHooks` for the app to register its warmers on.
 */
@Module({})
export class CacheAdminModule {
  static forRoot(options: CacheAdminModuleOptions = {}): DynamicModule {
    return {
      module: CacheAdminModule,
      global: true,
      imports: [TypeOrmModule.forFeature([CacheAuditEntity])],
      controllers: [CacheAdminController],
      providers: [
        { provide: CACHE_ADMIN_OPTIONS, useValue: resolveCacheAdminOptions(options) },
        CacheAdminHooks,
        CacheAuditService,
        StatsSampler,
      ],
      exports: [CacheAdminHooks, CacheAuditService, StatsSampler],
    };
  }
}
