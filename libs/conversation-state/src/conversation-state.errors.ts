/** No conversation with that id (or it was deleted). */
export class ConversationNotFoundError extends Error {
  readonly code = 'E_CONVERSATION_NOT_FOUND';

  constructor(options?: { cause?: unknown }) {
    super('Conversation not found', options);
    this.name = 'ConversationNotFoundError';
  }
}

/** An update named a `version` that is no longer the conversation's: read it again and retry. */
export class ConversationVersionConflictError extends Error {
  readonly code = 'E_CONVERSATION_VERSION_CONFLICT';

  constructor(
    readonly expected: number,
    readonly current: number,
    options?: { cause?: unknown },
  ) {
    super(`The conversation is at version ${current}, not ${expected}: read it again`, options);
    this.name = 'ConversationVersionConflictError';
  }
}

/**
 * The answer came after the exchange was given up: its messages were no
 * longer `pending` (the sweeper had marked them `failed`), so nothing was
 * stored. Post the message again.
 */
export class ExchangeAbandonedError extends Error {
  readonly code = 'E_CONVERSATION_EXCHANGE_ABANDONED';

  constructor(options?: { cause?: unknown }) {
    super(
      'The answer came after the exchange was given up and marked failed; nothing was stored: post it again',
      options,
    );
    this.name = 'ExchangeAbandonedError';
  }
}
