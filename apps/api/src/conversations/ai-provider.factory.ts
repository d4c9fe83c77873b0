import { Logger } from '@nestjs/common';
import { MAX_BACKOFF_MS, OpenAiProvider, SimulatedProvider, type AiProvider } from '@app/ai';
import type { AppConfig } from '../config/app-config';

/** The provider `AI_PROVIDER` names: `simulated` (no network) or `openai` (any OpenAI-compatible endpoint). */
export function createAiProvider(config: AppConfig['ai']): AiProvider {
  if (config.provider === 'simulated') return new SimulatedProvider(config.simulatedLatencyMs);
  const logger = new Logger('AiProvider');
  return new OpenAiProvider({
    baseUrl: config.baseUrl!,
    apiKey: config.apiKey,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    // The failure and the wait only: never the request, its key or the provider's body.
    onRetry: (attempt, error, delayMs) =>
      logger.warn(`attempt ${attempt} failed (${error.message}); retrying in ${delayMs} ms`),
  });
}

/**
 * The longest a provider call may take: every attempt's deadline and the
 * longest backoff between them (`MAX_BACKOFF_MS`). Other instances wait this long for an
 * identical request's answer (`lockWaitMs`).
 */
export function providerMaxMs(config: AppConfig['ai']): number {
  return config.timeoutMs * (config.maxRetries + 1) + MAX_BACKOFF_MS * config.maxRetries;
}

/**
 * How long an exchange may legitimately stay `pending`: its instance may wait
 * `providerMaxMs` for another instance's answer to the same prompt (the
 * completion cache's `lockWaitMs`), then call the provider itself for up to
 * `providerMaxMs` more, plus a minute for the writes around them. The sweeper
 * gives up (marks `failed`) only exchanges older than this.
 */
export function pendingTimeoutMs(config: AppConfig['ai']): number {
  return 2 * providerMaxMs(config) + 60_000;
}
