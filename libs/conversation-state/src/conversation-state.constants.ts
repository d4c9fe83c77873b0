/** The resolved module options (`ResolvedConversationStateOptions`). */
export const CONVERSATION_STATE_OPTIONS = 'CONVERSATION_STATE:RESOLVED_OPTIONS';

/** The tag every cached copy of a conversation carries (hot state, message pages, HTTP responses built on them). */
export const conversationTag = (id: string): string => `conversation:${id}`;

/**
 * The tag of a conversation's header (its immutable fields: boardroom, creator,
 * model, system prompt). Appends and context updates leave it; a delete drops it.
 */
export const conversationHeaderTag = (id: string): string => `conversation-header:${id}`;
