export { AiModule } from './ai.module';
export {
  estimatePromptTokens,
  estimateTokens,
  replayChunks,
  storableText,
  type AiProvider,
  type ChatMessage,
  type ChatRole,
  type CompletionRequest,
  type CompletionResult,
  type GenerationParams,
  type TokenSink,
} from './ai-provider';
export { SimulatedProvider } from './simulated.provider';
export { MAX_BACKOFF_MS, OpenAiProvider, type OpenAiProviderOptions } from './openai.provider';
export {
  CompletionCache,
  completionKey,
  scopeKey,
  type CompletionAnswer,
  type CompletionAudience,
  type CompletionCall,
  type CompletionControls,
} from './completion-cache';
export {
  AiLedger,
  parsePriceTable,
  type CompletionOutcome,
  type LedgerLine,
  type ModelPrice,
  type PriceTable,
} from './ai-ledger';
export { resolveAiOptions, type AiCacheScope, type AiModuleOptions, type ResolvedAiOptions } from './ai.options';
export { AI_PROVIDER, AI_RESOLVED_OPTIONS, DEFAULT_AI_NAMESPACE, DEFAULT_AI_TTL_MS } from './ai.constants';
export { AiArgumentError, AiProviderError, type AiProviderFailure } from './ai.errors';
