import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  estimatePromptTokens,
  replayChunks,
  type AiProvider,
  type CompletionRequest,
  type CompletionResult,
  type TokenSink,
} from './ai-provider';
import { AiProviderError } from './ai.errors';

const WORDS = [
  'align',
  'budget',
  'customers',
  'decide',
  'evidence',
  'focus',
  'growth',
  'hiring',
  'iterate',
  'judgement',
  'key',
  'launch',
  'margin',
  'next',
  'options',
  'priorities',
  'quarter',
  'risk',
  'strategy',
  'timeline',
  'users',
  'value',
  'weekly',
  'yield',
  'zero-based',
  'board',
  'cost',
  'data',
  'plan',
  'review',
  'scope',
  'team',
];

/**
 * A provider that needs no network: its answer is derived from the whole
 * request (model, every message, the parameters), so the same prompt always
 * gets the same answer and a different history a different one; it takes
 * `latencyMs` to answer, so the cache's benefit is visible. Tokens: the
 * prompt's estimate, and one per word of the answer.
 */
export class SimulatedProvider implements AiProvider {
  readonly name = 'simulated';

  constructor(private readonly latencyMs = 300) {}

  async complete(request: CompletionRequest, onToken?: TokenSink): Promise<CompletionResult> {
    const digest = createHash('sha256')
      .update(JSON.stringify([request.model, request.messages, request.params]))
      .digest();
    const length = Math.min(12 + (digest[0] % 24), Math.max(1, request.params.maxTokens));
    const words: string[] = [];
    for (let i = 0; i < length; i++) words.push(WORDS[digest[(i + 1) % digest.length] % WORDS.length]);
    const last = request.messages.at(-1)?.content ?? '';
    // 40 code points, not code units: a cut through a surrogate pair would leave half of it.
    const content = `On "${Array.from(last).slice(0, 40).join('')}": ${words.join(' ')}.`;
    const chunks = replayChunks(content);
    // The latency is spread over the chunks, as a model streams its answer.
    const step = this.latencyMs / Math.max(1, chunks.length);
    let waited = 0;
    for (const [i, chunk] of chunks.entries()) {
      const due = Math.round(step * (i + 1));
      if (due > waited) {
        await sleep(due - waited, undefined, { signal: request.signal }).catch((cause: unknown) => {
          throw new AiProviderError('aborted', 'The AI call was aborted', { cause });
        });
        waited = due;
      }
      onToken?.(chunk);
    }
    return {
      content,
      promptTokens: estimatePromptTokens(request.messages),
      completionTokens: chunks.length,
      model: request.model,
    };
  }
}
