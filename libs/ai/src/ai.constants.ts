/** Injection token of the `AiProvider` the completion cache calls. */
export const AI_PROVIDER = 'AI:PROVIDER';

/** The resolved module options (`ResolvedAiOptions`). */
export const AI_RESOLVED_OPTIONS = 'AI:RESOLVED_OPTIONS';

/** The cache namespace completions live in (`{prefix}:c:ai:…`). */
export const DEFAULT_AI_NAMESPACE = 'ai';

/** Default lifetime of a cached completion (ms): `CACHE_TTL_AI`'s default in the design. */
export const DEFAULT_AI_TTL_MS = 1_800_000;
