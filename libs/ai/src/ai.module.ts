import { Module } from '@nestjs/common';
import { AiLedger } from './ai-ledger';
import { AI_PROVIDER, AI_RESOLVED_OPTIONS } from './ai.constants';
import { AI_OPTIONS, AiConfigurableModule } from './ai.module-definition';
import { resolveAiOptions, type AiModuleOptions, type ResolvedAiOptions } from './ai.options';
import { CompletionCache } from './completion-cache';

/**
 * `AiModule.forRoot({ provider, ttl, grace, scope, prices })` (or
 * `forRootAsync`), after `CacheModule`: global; provides the provider, the
 * completion cache and its ledger.
 */
@Module({
  providers: [
    { provide: AI_RESOLVED_OPTIONS, inject: [AI_OPTIONS], useFactory: (o: AiModuleOptions) => resolveAiOptions(o) },
    { provide: AI_PROVIDER, inject: [AI_RESOLVED_OPTIONS], useFactory: (o: ResolvedAiOptions) => o.provider },
    { provide: AiLedger, inject: [AI_RESOLVED_OPTIONS], useFactory: (o: ResolvedAiOptions) => new AiLedger(o.prices) },
    CompletionCache,
  ],
  exports: [AI_PROVIDER, AI_RESOLVED_OPTIONS, AiLedger, CompletionCache],
})
export class AiModule extends AiConfigurableModule {}
