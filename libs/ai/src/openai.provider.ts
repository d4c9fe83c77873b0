import { setTimeout as sleep } from 'node:timers/promises';
import {
  estimatePromptTokens,
  estimateTokens,
  storableText,
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
/** Largest token count kept (Postgres `integer`). */
const MAX_TOKEN_COUNT = 2_147_483_647;
/** Longest backoff between two attempts (ms); a `Retry-After` beyond it ends the retries. */
export const MAX_BACKOFF_MS = 10_000;

interface ChatCompletionBody {
  choices?: Array<{ message?: { content?: unknown }; delta?: { content?: unknown }; finish_reason?: unknown }>;
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
        const retryAfter = (failure.cause as { retryAfterMs?: number } | undefined)?.retryAfterMs;
        // A provider that asks for a longer pause than we would wait is not retried into another 429.
        if (retryAfter !== undefined && retryAfter > MAX_BACKOFF_MS) throw failure;
        const delay = this.backoff(attempt, retryAfter);
        this.options.onRetry?.(attempt + 1, failure, delay);
        await sleep(delay, undefined, { signal: request.signal }).catch(() => {
          throw new AiProviderError('aborted', 'The AI call was aborted', { cause: failure });
        });
      }
    }
  }

  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return retryAfterMs;
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
      const answer = stream ? await readStream(response, onToken) : readJson(await readCappedJson(response));
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

/** The body as JSON, refusing one over `MAX_ANSWER_CHARS` × 4 bytes (a UTF-8 character is at most 4). */
async function readCappedJson(response: Response): Promise<unknown> {
  if (!response.body) throw new AiProviderError('protocol', 'The AI provider sent no answer');
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    size += bytes.byteLength;
    if (size > MAX_ANSWER_CHARS * 4)
      throw new AiProviderError('protocol', 'The AI provider sent an answer over the size limit');
    chunks.push(bytes);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Server-sent events of a streamed completion: `data:` lines (CRLF, LF or CR
 * line ends; a multi-line event's data joined with `\n`), ended by
 * `data: [DONE]`. A stream that stops before `[DONE]` (or a `finish_reason`)
 * is a failure: a cut-off answer must not be stored as a whole one.
 */
async function readStream(response: Response, onToken: TokenSink): Promise<RawAnswer> {
  if (!response.body) throw new AiProviderError('protocol', 'The AI provider sent no stream');
  const decoder = new TextDecoder();
  const answer: RawAnswer = { content: '' };
  let buffered = '';
  let data: string[] = [];
  let done = false;
  let finished = false;
  const dispatch = () => {
    if (data.length === 0) return;
    const payload = data.join('\n');
    data = [];
    if (payload.trim() === '[DONE]') {
      done = true;
      return;
    }
    let chunk: ChatCompletionBody;
    try {
      chunk = JSON.parse(payload) as ChatCompletionBody;
    } catch (cause) {
      throw new AiProviderError('protocol', 'The AI provider sent an unreadable stream', { cause });
    }
    const choice = chunk.choices?.[0];
    const text = choice?.delta?.content;
    if (typeof text === 'string' && text.length > 0) {
      answer.content += text;
      if (answer.content.length > MAX_ANSWER_CHARS)
        throw new AiProviderError('protocol', 'The AI provider sent an answer over the size limit');
      onToken(text);
    }
    if (typeof choice?.finish_reason === 'string') finished = true;
    Object.assign(answer, usageOf(chunk));
    if (typeof chunk.model === 'string') answer.model = chunk.model;
  };
  const line = (text: string) => {
    if (text === '') dispatch();
    else if (text.startsWith('data:')) data.push(text.slice(text.startsWith('data: ') ? 6 : 5));
  };
  const drain = (final: boolean) => {
    for (;;) {
      const end = buffered.search(/\r\n|\r|\n/);
      if (end < 0 || (!final && end === buffered.length - 1 && buffered.endsWith('\r'))) break;
      const width = buffered.startsWith('\r\n', end) ? 2 : 1;
      line(buffered.slice(0, end));
      buffered = buffered.slice(end + width);
      if (done) return;
    }
    if (final && buffered !== '') {
      line(buffered);
      buffered = '';
    }
    if (final) dispatch();
  };
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    drain(false);
    if (done) break;
    if (buffered.length > MAX_ANSWER_CHARS)
      throw new AiProviderError('protocol', 'The AI provider sent a line over the size limit');
  }
  if (!done) {
    buffered += decoder.decode();
    drain(true);
  }
  if (!done && !finished) throw new AiProviderError('protocol', 'The AI provider ended the stream early');
  return answer;
}

function usageOf(body: ChatCompletionBody): Pick<RawAnswer, 'promptTokens' | 'completionTokens'> {
  const usage = body.usage;
  if (!usage) return {};
  // Clamped to Postgres's integer: a provider's count is stored with the message.
  const count = (value: unknown) =>
    Number.isSafeInteger(value) && (value as number) >= 0 ? Math.min(value as number, MAX_TOKEN_COUNT) : undefined;
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
    // NUL and lone surrogates replaced before the answer is cached or stored.
    content: storableText(answer.content),
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
