/** Options of `ConversationStateModule.forRoot` / `forRootAsync`. Durations in ms. */
export interface ConversationStateModuleOptions {
  /** Lifetime of a hot copy; a copy read in its second half is reloaded in the background (sliding). @default 3600000 */
  ttl?: number;
  /** Most messages in a hot copy, and in the history the model sees. @default 50 */
  maxMessages?: number;
  /** Most (estimated) tokens of those messages; the oldest go first. @default 8000 */
  maxTokens?: number;
  /** Namespace of the hot copies in the cache. @default 'cv' */
  namespace?: string;
  /**
   * An exchange still `pending` this long after it was posted is marked
   * `failed` (its process died while the provider answered); set it above the
   * longest an exchange may legitimately take: a wait for another instance's
   * answer to the same prompt plus the provider's own longest answer time. A
   * late answer to an exchange given up is refused (`ExchangeAbandonedError`),
   * never stored. @default 600000
   */
  pendingTimeout?: number;
  /** How often each instance looks for such exchanges (ms); 0: never. @default 60000 */
  sweepInterval?: number;
}

export interface ResolvedConversationStateOptions {
  ttlMs: number;
  maxMessages: number;
  maxTokens: number;
  namespace: string;
  pendingTimeoutMs: number;
  sweepIntervalMs: number;
}

export function resolveConversationStateOptions(
  options: ConversationStateModuleOptions = {},
): ResolvedConversationStateOptions {
  for (const [name, value, min] of [
    ['ttl', options.ttl, 1000],
    ['maxMessages', options.maxMessages, 1],
    ['maxTokens', options.maxTokens, 1],
    ['pendingTimeout', options.pendingTimeout, 1000],
    ['sweepInterval', options.sweepInterval, 0],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= min))
      throw new TypeError(`ConversationStateModule ${name} must be an integer >= ${min}, got ${value}`);
  }
  return {
    ttlMs: options.ttl ?? 3_600_000,
    maxMessages: options.maxMessages ?? 50,
    maxTokens: options.maxTokens ?? 8000,
    namespace: options.namespace ?? 'cv',
    pendingTimeoutMs: options.pendingTimeout ?? 600_000,
    sweepIntervalMs: options.sweepInterval ?? 60_000,
  };
}
