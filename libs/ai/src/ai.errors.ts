/** Why a provider call failed. */
export type AiProviderFailure = 'timeout' | 'http' | 'network' | 'protocol' | 'aborted';

/**
 * The AI provider did not answer: timed out, answered an error status after
 * the retries, or could not be reached. The message is safe to show a client
 * (it names the status, never the request, the key or the provider's body).
 */
export class AiProviderError extends Error {
  readonly code = 'E_AI_PROVIDER';
  /** The provider's HTTP status, for `http` failures. */
  readonly status?: number;

  constructor(
    readonly failure: AiProviderFailure,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options);
    this.name = 'AiProviderError';
    this.status = options?.status;
  }
}

/** An option of `AiModule` that cannot work (thrown at boot). */
export class AiArgumentError extends Error {
  readonly code = 'E_AI_ARGUMENT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AiArgumentError';
  }
}
