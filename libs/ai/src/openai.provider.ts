import { setTimeout as sleep } from 'node:timers/promises';
import {
  estimatePromptTokens,
  estimateTokens,
  type AiProvider,
  type CompletionRequest,
  type CompletionResult,
  type TokenSink,
} from './ai-provider';
import { AiProviderError } from './ai.errors';

/** Options of `OpenAiProvider`. */
export interface OpenAiProviderOptions {
  /** The API's base URL, up to and including the version (`https://api.openai.com/v1`, `http://localhost:11434/v1`). */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged or put in an error. */
  readonly apiKey?: string;
  /** Deadline of one attempt, from the request to the answer's last byte (ms). */
  readonly timeoutMs: number;
  /** Further attempts after a 429, a 5xx or a network error, before any text was passed on. */
  readonly maxRetries: number;
  /** First backoff (ms); doubled each attempt, with jitter; a `Retry-After` the provider sends wins (capped). */
  readonly retryBaseMs?: number;
  /** Told about each retry (the status or the failure, never the request). */
  readonly onRetry?: (attempt: number, error: AiProviderError, delayMs: number) => void;
}

/** Largest answer accepted (characters): a provider that streams without end fails instead of filling the heap. */
const MAX_ANSWER_CHARS = 1_000_000;
/** Longest backoff between two attempts (ms). */
const MAX_BACKOFF_MS = 10_000;

interface ChatCompletionBody {
  choices?: Array<{ message?: { content?: unknown }; delta?: { content?: unknown } }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  model?: unknown;
}

/**
 * Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
 * llama.cpp's server, a gateway): `POST {baseUrl}/chat/completions`, as JSON
 * or, with `onToken`, as a stream of server-sent events with the usage in the
 * last chunk (`stream_options.include_usage`). Each attempt has a deadline; a
 * 429, a 5xx or a network error is retried with exponential backoff, unless
 * text was already passed on (a stream cannot be taken back).
 */
export class OpenAiProvider implements AiProvider {
  readonly name = 'openai';
  private readonly url: string;

  constructor(private readonly options: OpenAiProviderOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async complete(request: CompletionRequest, onToken?: TokenSink): Promise<CompletionResult> {
    for (let attempt = 0; ; attempt++) {
      let passedOn = false;
      const sink = onToken && ((text: string) => ((passedOn = true), onToken(text)));
      try {
        return await this.attempt(request, sink);
      } catch (error) {
        const failure =
          error instanceof AiProviderError
            ? error
            : new AiProviderError('protocol', 'AI call failed', { cause: error });
        if (passedOn || attempt >= this.options.maxRetries || !retryable(failure) || request.signal?.aborted)
          throw failure;
        const delay = this.backoff(attempt, (failure.cause as { retryAfterMs?: number } | undefined)?.retryAfterMs);
        this.options.onRetry?.(attempt + 1, failure, delay);
        await sleep(delay, undefined, { signal: request.signal }).catch(() => {
          throw new AiProviderError('aborted', 'The AI call was aborted', { cause: failure });
        });
      }
    }
  }

  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_BACKOFF_MS);
    const base = (this.options.retryBaseMs ?? 250) * 2 ** attempt;
    return Math.min(MAX_BACKOFF_MS, Math.round(base * (0.5 + Math.random() / 2)));
  }

  private async attempt(request: CompletionRequest, onToken: TokenSink | undefined): Promise<CompletionResult> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
    const stream = onToken !== undefined;
    const body = {
      model: request.model,
      messages: request.messages.map(({ role, content }) => ({ role, content })),
      temperature: request.params.temperature,
      max_tokens: request.params.maxTokens,
      stream,
      ...(stream && { stream_options: { include_usage: true } }),
    };
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: stream ? 'text/event-stream' : 'application/json',
          ...(this.options.apiKey && { authorization: `Bearer ${this.options.apiKey}` }),
        },
        body: JSON.stringify(body),
        signal,
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new AiProviderError('http', `The AI provider answered HTTP ${response.status}`, {
          status: response.status,
          cause: { retryAfterMs: retryAfterMs(response.headers.get('retry-after')) },
        });
      }
      const answer = stream ? await readStream(response, onToken) : readJson(await response.json());
      return finish(answer, request);
    } catch (error) {
      throw classify(error, deadline, request.signal);
    }
  }
}

interface RawAnswer {
  content: string;
  promptTokens?: number;
  completionTokens?: number;
  model?: string;
}

function readJson(body: unknown): RawAnswer {
  const parsed = body as ChatCompletionBody;
  const content = parsed?.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new AiProviderError('protocol', 'The AI provider sent no answer');
  return { content, ...usageOf(parsed), ...(typeof parsed.model === 'string' && { model: parsed.model }) };
}

async function readStream(response: Response, onToken: TokenSink): Promise<RawAnswer> {
  if (!response.body) throw new AiProviderError('protocol', 'The AI provider sent no stream');
  const decoder = new TextDecoder();
  const answer: RawAnswer = { content: '' };
  let buffered = '';
  let done = false;
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    let newline: number;
    while (!done && (newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trimEnd();
      buffered = buffered.slice(newline + 1);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        done = true;
        break;
      }
      let chunk: ChatCompletionBody;
      try {
        chunk = JSON.parse(data) as ChatCompletionBody;
      } catch (cause) {
        throw new AiProviderError('protocol', 'The AI provider sent an unreadable stream', { cause });
      }
      const text = chunk.choices?.[0]?.delta?.content;
      if (typeof text === 'string' && text.length > 0) {
        answer.content += text;
        if (answer.content.length > MAX_ANSWER_CHARS)
          throw new AiProviderError('protocol', 'The AI provider sent an answer over the size limit');
        onToken(text);
      }
      Object.assign(answer, usageOf(chunk));
      if (typeof chunk.model === 'string') answer.model = chunk.model;
    }
    if (buffered.length > MAX_ANSWER_CHARS)
      throw new AiProviderError('protocol', 'The AI provider sent a line over the size limit');
    if (done) break;
  }
  if (!done && answer.content === '') throw new AiProviderError('protocol', 'The AI provider ended the stream early');
  return answer;
}

function usageOf(body: ChatCompletionBody): Pick<RawAnswer, 'promptTokens' | 'completionTokens'> {
  const usage = body.usage;
  if (!usage) return {};
  const count = (value: unknown) =>
    Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
  const promptTokens = count(usage.prompt_tokens);
  const completionTokens = count(usage.completion_tokens);
  return {
    ...(promptTokens !== undefined && { promptTokens }),
    ...(completionTokens !== undefined && { completionTokens }),
  };
}

function finish(answer: RawAnswer, request: CompletionRequest): CompletionResult {
  const estimated = answer.promptTokens === undefined || answer.completionTokens === undefined;
  return {
    content: answer.content,
    promptTokens: answer.promptTokens ?? estimatePromptTokens(request.messages),
    completionTokens: answer.completionTokens ?? estimateTokens(answer.content),
    model: answer.model ?? request.model,
    ...(estimated && { estimated }),
  };
}

function retryable(error: AiProviderError): boolean {
  if (error.failure === 'network') return true;
  return error.failure === 'http' && (error.status === 429 || (error.status ?? 0) >= 500);
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function classify(error: unknown, deadline: AbortSignal, caller: AbortSignal | undefined): AiProviderError {
  if (error instanceof AiProviderError) return error;
  if (deadline.aborted)
    return new AiProviderError('timeout', 'The AI provider did not answer in time', { cause: error });
  if (caller?.aborted) return new AiProviderError('aborted', 'The AI call was aborted', { cause: error });
  if (error instanceof SyntaxError)
    return new AiProviderError('protocol', 'The AI provider sent an unreadable answer', { cause: error });
  return new AiProviderError('network', 'The AI provider could not be reached', { cause: error });
}
