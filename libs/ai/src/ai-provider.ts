/** Who wrote a message, as chat-completion APIs name it. */
export type ChatRole = 'system' | 'user' | 'assistant';

/** One message of the list a model sees. */
export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

/** Generation parameters: part of the completion cache's key. */
export interface GenerationParams {
  /** Sampling temperature; 0 is deterministic (cacheable by default). */
  readonly temperature: number;
  /** Upper bound of the answer's tokens. */
  readonly maxTokens: number;
}

/** What a provider is asked. */
export interface CompletionRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly params: GenerationParams;
  /** Aborts the call (a shutdown); a client that disconnects does not abort it. */
  readonly signal?: AbortSignal;
}

/** A provider's answer with the usage it reported (or an estimate, see `estimated`). */
export interface CompletionResult {
  readonly content: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** The model that answered, as the provider names it. */
  readonly model: string;
  /** True when the provider reported no usage and the counts are estimated from the text (4 characters a token). */
  readonly estimated?: boolean;
}

/** Receives an answer's text as it is generated. */
export type TokenSink = (text: string) => void;

/**
 * A chat-completion backend. `complete` resolves with the whole answer; with
 * `onToken`, the text is also passed on chunk by chunk as it arrives
 * (server-sent events for a streaming client). A failure rejects with
 * `AiProviderError` (timeouts and retries are the provider's business).
 */
export interface AiProvider {
  /** Stable name, part of the completion cache's key (`simulated`, `openai`). */
  readonly name: string;
  complete(request: CompletionRequest, onToken?: TokenSink): Promise<CompletionResult>;
}

/** Tokens of a text when the provider did not say: about 4 characters a token, as OpenAI documents for English. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** Tokens of a message list when the provider did not say (4 tokens of framing per message). */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + 4 + estimateTokens(message.content), 0);
}

/**
 * An answer's text in the chunks a stream is replayed in (a cache hit):
 * words with the spaces after them, so the replay reads as the original did.
 */
export function replayChunks(content: string): string[] {
  return content.match(/\s*\S+\s*/g) ?? (content ? [content] : []);
}

// `String.prototype.toWellFormed` exists on Node 20; the project's `lib` (ES2023) does not declare it.
type WellFormedString = string & { toWellFormed(): string };

/**
 * A provider's text as it can be served, cached and stored alike: each lone
 * UTF-16 surrogate (UTF-8 cannot encode one; Postgres would store U+FFFD)
 * and each NUL (Postgres `text` refuses it) become U+FFFD.
 */
export function storableText(text: string): string {
  return (text as WellFormedString).toWellFormed().replaceAll('\u0000', '\ufffd');
}
